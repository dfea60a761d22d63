"""SOFTMAX, int8 -> int8 (scale 1/256, zero point -128): LiteRT's reference fixed-point kernel.

The reference resolver prepares int8 softmax with PreprocessSoftmaxScaling (beta * input_scale
in double, as a Q5.26 multiplier capped at 2^31 - 1) and CalculateInputRadius, then runs
reference_ops::Softmax (gemmlowp exp, no lookup table). Its TFLite build uses double-rounding
arithmetic, where QuantizeMultiplier may return a left shift of 31 (no saturation at 30).
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    KernelCall,
    lowering,
    op_error,
    operands,
    require_int8_activations,
    scale_of,
    zero_point_of,
)
from harness.compiler.quant import quantize_multiplier

SCALED_DIFF_INTEGER_BITS = 5  # the exp input is Q5.26
MAX_REAL_MULTIPLIER = 2.0**31 - 1.0
MAX_DEPTH = 4095  # keeps the Q12.19 sum of exponentials inside int32
OUTPUT_ZERO_POINT = -128
OUTPUT_SCALE = np.float32(1.0 / 256)
OUTPUT_SCALE_TOLERANCE = np.float32(0.001) / np.float32(256)  # TFLite's float32 check


def check_output_quantization(op: Operator, out: Tensor) -> None:
    scale = np.float32(scale_of(out))
    near = abs(scale - OUTPUT_SCALE) <= OUTPUT_SCALE_TOLERANCE
    if zero_point_of(out) != OUTPUT_ZERO_POINT or not near:
        raise op_error(
            op,
            f"output {out.describe()} has scale {float(scale):.6g} and zero point {zero_point_of(out)} "
            f"(supported: scale 1/256 and zero point {OUTPUT_ZERO_POINT}, as TFLite requires)",
        )


def input_scaling(op: Operator, beta: float, input_scale: float) -> dict:
    """PreprocessSoftmaxScaling and CalculateInputRadius for 5 integer bits."""
    beta_times_scale = float(np.float32(beta)) * float(np.float32(input_scale))
    real = min(beta_times_scale * 2.0 ** (31 - SCALED_DIFF_INTEGER_BITS), MAX_REAL_MULTIPLIER)
    if not real > 1.0:
        raise op_error(
            op,
            f"beta {beta:.6g} with input scale {input_scale:.6g} is not supported "
            "(supported: beta * scale > 2^-26, as the reference requires)",
        )
    multiplier, left_shift = quantize_multiplier(real)
    radius = ((1 << SCALED_DIFF_INTEGER_BITS) - 1) * 2 ** (31 - SCALED_DIFF_INTEGER_BITS) >> left_shift
    return {"input_multiplier": multiplier, "input_left_shift": left_shift, "diff_min": -radius}


@lowering("SOFTMAX")
def lower_softmax(op: Operator, graph: Graph) -> KernelCall:
    (inp,), out = operands(op, graph, (1,), "data")
    require_int8_activations(op, inp, out)
    check_output_quantization(op, out)
    if not inp.shape or inp.shape != out.shape or inp.size == 0:
        raise op_error(
            op, f"input {list(inp.shape)} and output {list(out.shape)} must be the same non-empty shape"
        )
    depth = inp.shape[-1]
    if depth > MAX_DEPTH:
        raise op_error(
            op, f"softmax over {depth} values is not supported (supported: last dimension up to {MAX_DEPTH})"
        )
    beta = (op.options or schema.SoftmaxOptionsT()).beta
    params = {"rows": inp.size // depth, "depth": depth, **input_scaling(op, beta, scale_of(inp))}
    return KernelCall(op, "hil_softmax_s8", "hil_softmax_params", params, [inp.index], [out.index], macs=inp.size)
