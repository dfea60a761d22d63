"""ADD and SUB: int8 +/- int8 -> int8, each input rescaled to a common scale, with 4-D broadcasting."""

from __future__ import annotations

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    KernelCall,
    lowering,
    op_error,
    scale_of,
    zero_point_of,
)
from harness.compiler.ops.broadcast import binary_operands
from harness.compiler.quant import quantize_multiplier

# add.cc gives 8-bit inputs 20 bits of headroom before rescaling them.
INT8_LEFT_SHIFT = 20


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


def add_call(op: Operator, graph: Graph, input2_sign: int) -> KernelCall:
    o = binary_operands(op, graph)
    rescaled = rescaling(op, o.in1, o.in2, o.out)
    rescaled["input2_multiplier"] *= input2_sign
    params = {**o.layout(), **rescaled, "act_min": o.act_min, "act_max": o.act_max}
    # Same 4-D shapes is TFLite's non-broadcast path; its rounding is the same, only the loop is simpler.
    function = "hil_add_elementwise_s8" if o.shape1 == o.shape2 else "hil_add_s8"
    return KernelCall(op, function, "hil_add_params", params, inputs=[o.in1.index, o.in2.index], outputs=[o.out.index])


@lowering("ADD")
def lower_add(op: Operator, graph: Graph) -> KernelCall:
    return add_call(op, graph, input2_sign=1)


@lowering("SUB")
def lower_sub(op: Operator, graph: Graph) -> KernelCall:
    """As sub.cc runs int8: the ADD kernels with input 2's multiplier negated (not the same rounding
    as negating the rescaled input 2, so it is done exactly this way)."""
    return add_call(op, graph, input2_sign=-1)
