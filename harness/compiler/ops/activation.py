"""Standalone int8 activations (RELU, RELU6, LEAKY_RELU, LOGISTIC, HARD_SWISH) as 256-entry tables.

An int8 operator with one input is a function of 256 values. The compiler evaluates the reference
kernel's arithmetic for each of them, exactly as LiteRT's reference resolver does (integer
requantization for RELU/RELU6/LEAKY_RELU and HARD_SWISH's int16 fixed point, LOGISTIC's float
table), and the device looks each element up: one kernel, any of these operators, the same bytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.fixedpoint import (
    INT16_MAX,
    INT16_MIN,
    INT32_MAX,
    c_div,
    doubling_high_mul,
    multiply_by_quantized_multiplier,
    rounding_divide_by_pot,
    saturate,
)
from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    KernelCall,
    lowering,
    op_error,
    operands,
    require_int8_activations,
    scale_of,
    zero_point_of,
)
from harness.compiler.quant import (
    ACT_RELU,
    ACT_RELU6,
    INT8_MAX,
    INT8_MIN,
    activation_range,
    quantize_multiplier,
    round_half_away,
)

ALL_INT8 = range(INT8_MIN, INT8_MAX + 1)
f32 = np.float32

# LOGISTIC's table calls C's expf (std::exp of a float), the function LiteRT's reference kernel
# calls; numpy's float32 exp is a different implementation and may differ in the last bit.
_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))
_LIBM.expf.restype = ctypes.c_float
_LIBM.expf.argtypes = [ctypes.c_float]


def table_call(op: Operator, inp: Tensor, out: Tensor, value: Callable[[int], int]) -> KernelCall:
    """The kernel call for an elementwise int8 function; the table is indexed by the input's byte."""
    table = np.zeros(256, dtype=np.int8)
    for x in ALL_INT8:
        table[x & 0xFF] = saturate(value(x), INT8_MIN, INT8_MAX)
    params = {"size": inp.size, "table": ConstArray("table", "int8_t", table)}
    return KernelCall(op, "hil_lookup_s8", "hil_lookup_params", params, [inp.index], [out.index])


def unary(op: Operator, graph: Graph) -> tuple[Tensor, Tensor]:
    (inp,), out = operands(op, graph, (1,), "data")
    require_int8_activations(op, inp, out)
    if inp.shape != out.shape:
        raise op_error(op, f"output shape {list(out.shape)} differs from the input shape {list(inp.shape)}")
    return inp, out


def relu_family(op: Operator, graph: Graph, activation: int) -> KernelCall:
    """ReluX: requantize by the input/output scale ratio (float32 division), clamp to the range."""
    inp, out = unary(op, graph)
    multiplier, shift = quantize_multiplier(float(f32(scale_of(inp)) / f32(scale_of(out))))
    act_min, act_max = activation_range(activation, scale_of(out), zero_point_of(out))
    in_zp, out_zp = zero_point_of(inp), zero_point_of(out)

    def value(x: int) -> int:
        return saturate(out_zp + multiply_by_quantized_multiplier(x - in_zp, multiplier, shift), act_min, act_max)

    return table_call(op, inp, out, value)


@lowering("RELU")
def lower_relu(op: Operator, graph: Graph) -> KernelCall:
    return relu_family(op, graph, ACT_RELU)


@lowering("RELU6")
def lower_relu6(op: Operator, graph: Graph) -> KernelCall:
    return relu_family(op, graph, ACT_RELU6)


@lowering("LEAKY_RELU")
def lower_leaky_relu(op: Operator, graph: Graph) -> KernelCall:
    """Two multipliers: identity for x >= 0, alpha below (scales times alpha in float32)."""
    inp, out = unary(op, graph)
    alpha = float((op.options or schema.LeakyReluOptionsT()).alpha)
    if alpha < 0.0:
        raise op_error(op, f"alpha {alpha} is negative (supported: alpha >= 0)")
    in_scale, out_scale = f32(scale_of(inp)), f32(scale_of(out))
    identity = quantize_multiplier(float(in_scale / out_scale))
    negative = quantize_multiplier(float(in_scale * f32(alpha) / out_scale))
    in_zp, out_zp = zero_point_of(inp), zero_point_of(out)

    def value(x: int) -> int:
        centred = x - in_zp
        return out_zp + multiply_by_quantized_multiplier(centred, *(identity if centred >= 0 else negative))

    return table_call(op, inp, out, value)


@lowering("LOGISTIC")
def lower_logistic(op: Operator, graph: Graph) -> KernelCall:
    """The reference's float table: sigmoid of the dequantized value, rounded on the 1/256 scale."""
    inp, out = unary(op, graph)
    if scale_of(out) != 1.0 / 256 or zero_point_of(out) != INT8_MIN:
        raise op_error(op, f"output {out.describe()} must have scale 1/256 and zero point -128 (TFLite's rule)")
    in_scale, in_zp = f32(scale_of(inp)), zero_point_of(inp)
    inverse_scale = f32(1.0) / f32(scale_of(out))

    def value(x: int) -> int:
        dequantized = in_scale * f32(x - in_zp)
        sigmoid = f32(1.0) / (f32(1.0) + f32(_LIBM.expf(float(-dequantized))))
        return round_half_away(float(sigmoid * inverse_scale)) + INT8_MIN

    return table_call(op, inp, out, value)


def int16_multiplier(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: the Q31 multiplier rounded to Q15, saturating."""
    if multiplier >= INT32_MAX - (1 << 15):
        return INT16_MAX
    return (multiplier + (1 << 15)) >> 16


def saturating_left_shift16(value: int, amount: int) -> int:
    return saturate(value * (1 << amount), INT16_MIN, INT16_MAX)


def truncating_doubling_high_mul16(a: int, b: int) -> int:
    """The reference's SaturatingDoublingHighMul: the int16 doubling high product, truncated."""
    if a == b == INT16_MIN:
        return INT16_MAX
    return c_div(a * b, 1 << 15)


# The reference shifts int16 values right by these exponents; beyond 15 its masks no longer fit.
MAX_INT16_RIGHT_SHIFT = 15


@lowering("HARD_SWISH")
def lower_hard_swish(op: Operator, graph: Graph) -> KernelCall:
    """reference_ops::HardSwish: x * relu6(x + 3) / 6 in int16 fixed point, on a 2^7 finer input scale."""
    inp, out = unary(op, graph)
    hires_scale = f32(1.0 / 128.0) * f32(scale_of(inp))
    out_multiplier, out_exponent = quantize_multiplier(float(hires_scale / f32(scale_of(out))))
    reluish_multiplier, reluish_exponent = quantize_multiplier(float(hires_scale / f32(3.0 / 32768.0)))
    if not -MAX_INT16_RIGHT_SHIFT <= out_exponent <= 0 or reluish_exponent < -MAX_INT16_RIGHT_SHIFT:
        raise op_error(
            op, f"input scale {scale_of(inp)!r} and output scale {scale_of(out)!r} are not supported "
            "(supported: input scale / output scale from about 2^-9 up to 128, input scale above about 2e-7)")
    out_multiplier16, reluish_multiplier16 = int16_multiplier(out_multiplier), int16_multiplier(reluish_multiplier)
    in_zp, out_zp = zero_point_of(inp), zero_point_of(out)

    def value(x: int) -> int:
        hires = (x - in_zp) * (1 << 7)
        preshift_output = doubling_high_mul(hires, out_multiplier16, 16)
        reluish = hires
        if reluish_exponent > 0:
            reluish = saturating_left_shift16(reluish, reluish_exponent - 1)
        reluish = doubling_high_mul(reluish, reluish_multiplier16, 16)
        if reluish_exponent > 0:
            reluish = saturating_left_shift16(reluish, 1)
        if reluish_exponent < 0:
            reluish = rounding_divide_by_pot(reluish, -reluish_exponent)
        reluish = (reluish + (1 << 15)) >> 1  # from [-1, 1] to [0, 1]
        output = truncating_doubling_high_mul16(reluish, preshift_output)
        return rounding_divide_by_pot(output, -out_exponent) + out_zp

    return table_call(op, inp, out, value)
