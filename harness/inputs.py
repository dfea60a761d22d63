"""Inputs for a model's input tensor: users' arrays checked against it, and the reference patches."""

from __future__ import annotations

import numpy as np

from harness.audio.patches import structured_int8_inputs
from harness.compiler.graph import Tensor
from harness.errors import HilError


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


def reference_patches(tensor: Tensor, count: int, seed: int = 0) -> np.ndarray:
    """The patches `hil bench` and the hil suite stream: (count, *shape) int8 edge cases, random
    inputs and quantized synthetic log-mel patches, on the model's input quantization."""
    if tensor.dtype != "int8" or tensor.quant is None:
        raise HilError(f"the harness streams int8 patches; this model's input is {tensor.dtype}")
    scale, zero_point = float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    return structured_int8_inputs(tensor.shape, count, seed, scale, zero_point)
