"""Parity between the device's outputs and the golden: bit-exactness first, then statistics."""

from __future__ import annotations

import numpy as np

from harness.audio.quantization import INT8_MAX, INT8_MIN, dequantize
from harness.compiler import CompiledModel
from harness.compiler.graph import Tensor


def dequantized_source(model: CompiledModel) -> Tensor | None:
    """The int8 tensor a final DEQUANTIZE turns into the model's float output, else None."""
    graph = model.graph
    last = model.calls[-1]
    if last.op.kind == "DEQUANTIZE" and last.outputs == [graph.outputs[0]]:
        source = graph.tensor(last.inputs[0])
        return source if source.quant is not None else None
    return None


def output_lsb(model: CompiledModel) -> float | None:
    """The real value of one LSB of the int8 result: the output's scale, or the scale of the
    tensor a final DEQUANTIZE reads. None when the output is not an int8 result."""
    out = model.graph.tensor(model.graph.outputs[0])
    if out.dtype == "int8" and out.quant is not None:
        return float(out.quant.scale[0])
    source = dequantized_source(model)
    return float(source.quant.scale[0]) if source is not None else None


def int8_before_dequantize(outputs: np.ndarray, source: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The int8 values a DEQUANTIZE made `outputs` from, and per patch whether they are exact.

    DEQUANTIZE is one-to-one (scale > 0), so each float output came from exactly one int8 value:
    the one whose reference dequantization gives the same bytes. A patch holding a float that no
    int8 value dequantizes to (a wrong DEQUANTIZE on the device) is marked False."""
    scale, zero_point = float(source.quant.scale[0]), int(source.quant.zero_point[0])
    steps = np.rint(np.nan_to_num(outputs.astype(np.float64) / np.float32(scale), posinf=INT8_MAX, neginf=INT8_MIN))
    values = np.clip(steps + zero_point, INT8_MIN, INT8_MAX).astype(np.int8)
    again = dequantize(values, scale, zero_point).reshape(outputs.shape)
    on_grid = np.array([a.tobytes() == o.tobytes() for a, o in zip(again, outputs)])
    return values, on_grid


def _before_dequantize(device: np.ndarray, golden: np.ndarray, source: Tensor) -> dict:
    """Parity of the int8 tensor before the final DEQUANTIZE, reported beside the float outputs."""
    (d, d_exact), (g, _) = int8_before_dequantize(device, source), int8_before_dequantize(golden, source)
    diff = np.abs(d.astype(np.int32) - g.astype(np.int32)).reshape(len(d), -1)
    return {
        "exact_patches": int(sum(exact and a.tobytes() == b.tobytes() for exact, a, b in zip(d_exact, d, g))),
        "max_abs_diff_lsb": int(diff.max()),
        "off_grid_patches": int(np.count_nonzero(~d_exact)),
    }


def real_values(outputs: np.ndarray, model: CompiledModel) -> np.ndarray:
    """Outputs as real numbers (int8 outputs dequantized), one row per patch, in float64."""
    out = model.graph.tensor(model.graph.outputs[0])
    values = outputs.reshape(outputs.shape[0], -1).astype(np.float64)
    if out.dtype == "int8" and out.quant is not None:
        values = (values - float(out.quant.zero_point[0])) * float(out.quant.scale[0])
    return values


def parity_metrics(device: np.ndarray, golden: np.ndarray, model: CompiledModel, retransmits: int) -> dict:
    patches = device.shape[0]
    exact = sum(d.tobytes() == g.tobytes() for d, g in zip(device, golden))
    d, g = real_values(device, model), real_values(golden, model)
    diff = d - g
    lsb = output_lsb(model)
    max_abs = float(np.abs(diff).max())
    source = dequantized_source(model)
    before_dequantize = {} if source is None else {"before_dequantize": _before_dequantize(device, golden, source)}
    return {
        "patches": patches,
        "exact_patches": int(exact),
        "max_abs_diff_lsb": int(round(max_abs / lsb)) if lsb else None,
        "cosine_min": float(min(_cosine(a, b) for a, b in zip(d, g))),
        "l2r_max": _l2r_max(diff, g),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "mae": float(np.mean(np.abs(diff))),
        "top1_agreement": float(np.mean(d.argmax(axis=1) == g.argmax(axis=1))),
        "retransmits": int(retransmits),
        **before_dequantize,
    }


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0.0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.dot(a, b) / norms)


def _l2r_max(diff: np.ndarray, golden: np.ndarray) -> float | None:
    """Largest relative L2 error; None when a golden output is all zeros and the device's is not."""
    worst = 0.0
    for error, reference in zip(np.linalg.norm(diff, axis=1), np.linalg.norm(golden, axis=1)):
        if reference == 0.0:
            if error != 0.0:
                return None
            continue
        worst = max(worst, float(error / reference))
    return worst
