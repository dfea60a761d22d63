"""Which layer a difference starts at: when a patch's output differs from the golden, run that
patch again on the device and read every layer's output in turn (the protocol's READ_LAYER),
beside the reference interpreter's intermediate tensors, up to the first layer that differs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.compiler import CompiledModel
from harness.compiler.codegen import layer_name
from harness.parity.golden import GoldenModel


@dataclass(frozen=True)
class FirstDifference:
    """The first layer whose output differs for `patch`; layer None when, run again layer by
    layer, every layer equalled the golden (the difference did not repeat)."""

    patch: int
    layer: int | None = None
    name: str | None = None
    operator: str | None = None
    differing_elements: int = 0
    elements: int = 0
    max_abs_diff: float | None = None  # in the layer's own units: LSB for int8, real values for float

    def to_json(self) -> dict:
        return dict(vars(self))


def first_differing_patch(device_outputs: np.ndarray, golden_outputs: np.ndarray) -> int | None:
    for index, (ours, theirs) in enumerate(zip(device_outputs, golden_outputs)):
        if ours.tobytes() != theirs.tobytes():
            return index
    return None


def first_difference(device, model: CompiledModel, model_path: Path, inputs: np.ndarray, patch: int) -> FirstDifference:
    """Compare `inputs[patch]`'s layer outputs on `device` (harness.device.session.Device) with the
    golden's, in schedule order, stopping at the first that differs (each read runs the model again)."""
    golden = GoldenModel(model_path, keep_intermediates=True)
    golden.invoke(inputs[patch])
    for index, raw in device.layer_outputs(inputs[patch]):
        call = model.calls[index]
        expected = golden.tensor(call.outputs[0])
        if raw == expected.tobytes():
            continue
        got = np.frombuffer(raw, dtype=expected.dtype)
        want = expected.reshape(-1)
        if got.size != want.size:  # a layer of another size: all of it differs
            return FirstDifference(patch, index, layer_name(call), call.op.kind, want.size, want.size, None)
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        largest = float(np.nanmax(diff)) if not np.isnan(diff).all() else None  # NaN on both sides is no measure
        return FirstDifference(patch, index, layer_name(call), call.op.kind, int(np.count_nonzero(got != want)),
                               int(want.size), largest)
    return FirstDifference(patch)
