"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32), per tensor."""

from __future__ import annotations

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    KernelCall,
    lowering,
    op_error,
    require_dtype,
    require_int8_activation,
    require_quantized,
    scale_of,
    zero_point_of,
)
from harness.compiler.quant import quantize_multiplier

# The reference shifts (x - zero_point), |x - zero_point| <= 255, left before its int32 multiply;
# beyond 2^23 that overflows, so larger input/output scale ratios are rejected.
MAX_REQUANTIZE_LEFT_SHIFT = 23


def check_same_shape(op: Operator, inp: Tensor, out: Tensor) -> None:
    if inp.shape != out.shape:
        raise op_error(op, f"output shape {list(out.shape)} differs from input shape {list(inp.shape)}")


def affine_params(tensor: Tensor) -> dict:
    """Scale (float32, used as is by the float kernels) and zero point of the int8 side."""
    return {"size": tensor.size, "scale": scale_of(tensor), "zero_point": zero_point_of(tensor)}


def requantize_params(op: Operator, inp: Tensor, out: Tensor) -> dict:
    # As quantize.cc Prepare: the float32 scales widened to double, divided in double.
    multiplier, shift = quantize_multiplier(scale_of(inp) / scale_of(out))
    if shift > MAX_REQUANTIZE_LEFT_SHIFT:
        raise op_error(
            op,
            f"input scale {scale_of(inp)!r} / output scale {scale_of(out)!r} needs a left shift of {shift}, "
            f"which overflows the reference's int32 arithmetic (supported: ratios below 2^{MAX_REQUANTIZE_LEFT_SHIFT})",
        )
    return {
        "size": inp.size,
        "input_offset": -zero_point_of(inp),
        "output_offset": zero_point_of(out),
        "multiplier": multiplier,
        "shift": shift,
    }


@lowering("QUANTIZE")
def lower_quantize(op: Operator, graph: Graph) -> KernelCall:
    inp = graph.operator_inputs(op)[0]
    (out,) = graph.operator_outputs(op)
    if inp is None:
        raise op_error(op, "the input tensor is missing")
    require_int8_activation(op, out, "output")
    check_same_shape(op, inp, out)
    if inp.dtype == "float32":
        params = affine_params(out)
        return KernelCall(op, "hil_quantize_f32_s8", "hil_quantize_params", params, [inp.index], [out.index])
    if inp.dtype == "int8":
        require_quantized(op, inp, "input")
        params = requantize_params(op, inp, out)
        return KernelCall(op, "hil_requantize_s8", "hil_requantize_params", params, [inp.index], [out.index])
    raise op_error(op, f"input {inp.describe()} is not supported (supported: float32 or int8 input, int8 output)")


@lowering("DEQUANTIZE")
def lower_dequantize(op: Operator, graph: Graph) -> KernelCall:
    inp = require_int8_activation(op, graph.operator_inputs(op)[0], "input")
    (out,) = graph.operator_outputs(op)
    require_dtype(op, out, "float32", "output")
    check_same_shape(op, inp, out)
    return KernelCall(op, "hil_dequantize_s8_f32", "hil_quantize_params", affine_params(inp), [inp.index], [out.index])
