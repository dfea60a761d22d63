"""Inputs for a model's input tensor: users' arrays checked against it, and the reference patches."""

from __future__ import annotations

import numpy as np

from harness.audio.frontend import check_holds_patch, quantize_patches
from harness.audio.patches import structured_float_inputs, structured_int8_inputs
from harness.compiler.graph import Graph, Quantization, Tensor
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


def input_quantization(graph: Graph) -> Quantization:
    """The int8 quantization the model computes its input in: the input's own, or, for a float32
    input, that of the QUANTIZE reading it (the converter's default; it runs on the device)."""
    tensor = graph.tensor(graph.inputs[0])
    if tensor.dtype == "int8" and tensor.quant is not None:
        return tensor.quant
    if tensor.dtype == "float32":
        for op in graph.operators:
            quantized = graph.tensor(op.outputs[0])
            if op.kind == "QUANTIZE" and op.inputs[0] == tensor.index and quantized.quant is not None:
                return quantized.quant
    raise HilError(f"the harness streams int8 inputs, or float32 inputs that a QUANTIZE to int8 reads; "
                   f"this model's input is {tensor.dtype}"
                   + (" and no QUANTIZE reads it" if tensor.dtype == "float32" else ""))


def reference_patches(graph: Graph, count: int, seed: int = 0) -> np.ndarray:
    """The patches `hil bench` and the hil suite stream, (count, *shape) in the model's input type:
    edge cases, random inputs and synthetic log-mel patches, int8 on the model's input
    quantization, or float32 for a model that quantizes its float input itself."""
    tensor = graph.tensor(graph.inputs[0])
    quant = input_quantization(graph)
    scale, zero_point = float(quant.scale[0]), int(quant.zero_point[0])
    if tensor.dtype == "float32":
        return structured_float_inputs(tensor.shape, count, seed, scale, zero_point)
    return structured_int8_inputs(tensor.shape, count, seed, scale, zero_point)


def log_mel_inputs(patches: np.ndarray, graph: Graph) -> np.ndarray:
    """Float log-mel patches (N, mels, frames) as the model takes them, (N, *input shape): quantized
    for an int8 input; as they are for a float32 input, which the model's own QUANTIZE quantizes
    on the device."""
    tensor = graph.tensor(graph.inputs[0])
    if tensor.dtype != "float32":
        return quantize_patches(patches, tensor)
    input_quantization(graph)  # a float input only an int8 engine's QUANTIZE reads
    check_holds_patch(patches, tensor)
    return np.ascontiguousarray(patches, dtype=np.float32).reshape(len(patches), *tensor.shape)
