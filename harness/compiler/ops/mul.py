"""MUL: int8 * int8 -> int8 with 4-D broadcasting (per-channel and scalar gates, as squeeze-and-
excitation blocks use them) and fused activations."""

from __future__ import annotations

import numpy as np

from harness.compiler.graph import Graph, Operator
from harness.compiler.lowering import KernelCall, lowering, scale_of, zero_point_of
from harness.compiler.ops.broadcast import binary_operands
from harness.compiler.quant import quantize_multiplier


@lowering("MUL")
def lower_mul(op: Operator, graph: Graph) -> KernelCall:
    o = binary_operands(op, graph)
    # mul.cc: input1 scale * input2 scale / output scale, each float32 scale widened to double.
    real = float(np.float32(scale_of(o.in1))) * float(np.float32(scale_of(o.in2))) / float(np.float32(scale_of(o.out)))
    multiplier, shift = quantize_multiplier(real)
    params = {
        **o.layout(),
        "input1_offset": -zero_point_of(o.in1),
        "input2_offset": -zero_point_of(o.in2),
        "output_offset": zero_point_of(o.out),
        "output_multiplier": multiplier,
        "output_shift": shift,
        "act_min": o.act_min,
        "act_max": o.act_max,
    }
    return KernelCall(op, "hil_mul_s8", "hil_mul_params", params, [o.in1.index, o.in2.index], [o.out.index],
                      macs=o.out.size)
