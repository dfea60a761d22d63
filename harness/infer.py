"""`hil infer`: run a stack of inputs through the engine on a target and save the outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.compiler import compile_file
from harness.compiler.graph import Tensor
from harness.errors import HilError
from harness.host_engine import HostEngine
from harness.io import load_array, save_array

INFER_TARGETS = ("host",)


def stack_inputs(array: np.ndarray, tensor: Tensor, source: str) -> np.ndarray:
    """Accept (N, *shape) or, for a batch-1 input, (N, *shape[1:]); demand the exact dtype."""
    shape = tuple(tensor.shape)
    if array.dtype != np.dtype(tensor.dtype):
        hint = ""
        if tensor.quant is not None and array.dtype.kind == "f":
            scale, zero_point = float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
            hint = f"; quantize first: q = clip(round(x / {scale!r}) + {zero_point}, -128, 127)"
        raise HilError(f"{source}: inputs are {array.dtype}, the model's input is {tensor.dtype}{hint}")
    if array.shape[1:] == shape:
        return array
    if shape and shape[0] == 1 and array.shape[1:] == shape[1:]:
        return array.reshape((array.shape[0], *shape))
    expected = f"(N, {', '.join(map(str, shape))})"
    if shape and shape[0] == 1:
        expected += f" or (N, {', '.join(map(str, shape[1:]))})"
    raise HilError(f"{source}: inputs have shape {array.shape}; expected {expected}")


def infer(model_path: Path, inputs_path: Path, out_path: Path, target: str) -> np.ndarray:
    if target not in INFER_TARGETS:
        raise HilError(f"hil infer runs on: {', '.join(INFER_TARGETS)} (got --target {target})")
    model = compile_file(model_path)
    graph = model.graph
    inputs = stack_inputs(load_array(inputs_path), graph.tensor(graph.inputs[0]), str(inputs_path))
    if inputs.shape[0] == 0:
        raise HilError(f"{inputs_path}: holds no inputs (first axis is 0)")
    outputs, _ = HostEngine.build(model).run(inputs)
    save_array(out_path, outputs)
    return outputs
