"""ADD: int8 + int8 -> int8, each input rescaled to a common scale, with 4-D broadcasting."""

from __future__ import annotations

from dataclasses import astuple

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    KernelCall,
    Shape4,
    lowering,
    op_error,
    require_activation,
    require_int8_activation,
    scale_of,
    shape4,
    zero_point_of,
)
from harness.compiler.quant import ACT_NONE, activation_range, quantize_multiplier

# add.cc gives 8-bit inputs 20 bits of headroom before rescaling them.
INT8_LEFT_SHIFT = 20


def broadcast_shape(a: Shape4, b: Shape4) -> Shape4 | None:
    """TFLite's broadcast: each dimension pair equal or one of them 1; None if they do not fit."""
    if any(da != db and 1 not in (da, db) for da, db in zip(astuple(a), astuple(b), strict=True)):
        return None
    return Shape4(*(db if da == 1 else da for da, db in zip(astuple(a), astuple(b), strict=True)))


def broadcast_strides(shape: Shape4) -> tuple[int, int, int, int]:
    """Element strides along n, h, w, c; a dimension of size 1 gets 0, which broadcasts it."""
    dense = (shape.h * shape.w * shape.c, shape.w * shape.c, shape.c, 1)
    return tuple(0 if dim == 1 else step for dim, step in zip(astuple(shape), dense, strict=True))


def output_rescaling(op: Operator, twice_max_input_scale: float, out: Tensor) -> tuple[int, int]:
    """TFLite aborts (QuantizeMultiplierSmallerThanOneExp) unless this multiplier rounds below 1."""
    real = twice_max_input_scale / (float(1 << INT8_LEFT_SHIFT) * scale_of(out))
    multiplier, shift = quantize_multiplier(real)
    if real >= 1.0 or shift > 0:
        raise op_error(
            op,
            f"output scale {scale_of(out)!r} is too small for input scales up to {twice_max_input_scale / 2!r} "
            f"(supported: output scale > 2 * max input scale / 2^{INT8_LEFT_SHIFT})",
        )
    return multiplier, shift


def rescaling(op: Operator, in1: Tensor, in2: Tensor, out: Tensor) -> dict:
    """Multipliers as add.cc Prepare computes them: float32 scales, every ratio in double."""
    twice_max_input_scale = 2.0 * max(scale_of(in1), scale_of(in2))
    # Both input multipliers lie in (0, 0.5], so they always satisfy TFLite's "smaller than one".
    m1, s1 = quantize_multiplier(scale_of(in1) / twice_max_input_scale)
    m2, s2 = quantize_multiplier(scale_of(in2) / twice_max_input_scale)
    mo, so = output_rescaling(op, twice_max_input_scale, out)
    return {
        "input1_offset": -zero_point_of(in1),
        "input2_offset": -zero_point_of(in2),
        "output_offset": zero_point_of(out),
        "left_shift": INT8_LEFT_SHIFT,
        "input1_multiplier": m1,
        "input1_shift": s1,
        "input2_multiplier": m2,
        "input2_shift": s2,
        "output_multiplier": mo,
        "output_shift": so,
    }


@lowering("ADD")
def lower_add(op: Operator, graph: Graph) -> KernelCall:
    if len(op.inputs) != 2:
        raise op_error(op, f"takes 2 inputs, the model gives {len(op.inputs)}")
    in1, in2 = graph.operator_inputs(op)
    (out,) = graph.operator_outputs(op)
    for role, tensor in (("input 1", in1), ("input 2", in2), ("output", out)):
        require_int8_activation(op, tensor, role)
    shape1, shape2, out_shape = shape4(op, in1), shape4(op, in2), shape4(op, out)
    expected = broadcast_shape(shape1, shape2)
    if expected is None:
        raise op_error(
            op, f"input shapes {list(in1.shape)} and {list(in2.shape)} cannot be broadcast "
            "(aligned from the last dimension, each pair must be equal or contain a 1)"
        )
    if expected != out_shape:
        raise op_error(
            op, f"output shape {list(out.shape)} is not the broadcast of {list(in1.shape)} and {list(in2.shape)}"
        )
    activation = op.options.fusedActivationFunction if op.options is not None else ACT_NONE
    act_min, act_max = activation_range(require_activation(op, activation), scale_of(out), zero_point_of(out))
    params = {
        "output": out_shape,
        "input1_strides": broadcast_strides(shape1),
        "input2_strides": broadcast_strides(shape2),
        **rescaling(op, in1, in2, out),
        "act_min": act_min,
        "act_max": act_max,
    }
    # Same 4-D shapes is TFLite's non-broadcast path; its rounding is the same, only the loop is simpler.
    function = "hil_add_elementwise_s8" if shape1 == shape2 else "hil_add_s8"
    return KernelCall(op, function, "hil_add_params", params, inputs=[in1.index, in2.index], outputs=[out.index])
