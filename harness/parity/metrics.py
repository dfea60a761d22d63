"""Parity between the device's outputs and the golden: bit-exactness first, then statistics."""

from __future__ import annotations

import numpy as np

from harness.compiler import CompiledModel


def output_lsb(model: CompiledModel) -> float | None:
    """The real value of one LSB of the int8 result: the output's scale, or the scale of the
    tensor a final DEQUANTIZE reads. None when the output is not an int8 result."""
    graph = model.graph
    out = graph.tensor(graph.outputs[0])
    if out.dtype == "int8" and out.quant is not None:
        return float(out.quant.scale[0])
    last = model.calls[-1]
    if last.op.kind == "DEQUANTIZE" and last.outputs == [out.index]:
        source = graph.tensor(last.inputs[0])
        return float(source.quant.scale[0]) if source.quant is not None else None
    return None


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
