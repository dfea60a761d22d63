"""FULLY_CONNECTED: an int8 matrix product, requantized in double precision as LiteRT's reference does.

LiteRT's reference kernel (since the 2025 "requant in float" change) does not use the Q31
multiplier of the optimized kernels: it computes round(double(acc) * scale) with
scale = double(input_scale) * double(filter_scale) / double(output_scale). The kernel repeats
that arithmetic with integers, so each scale is passed as its exact 53-bit mantissa and exponent.
"""

from __future__ import annotations

import math

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    KernelCall,
    lowering,
    op_error,
    operands,
    require_activation,
    require_dtype,
    require_int8_activations,
    scale_of,
    zero_point_of,
)
from harness.compiler.ops.conv import check_symmetric_filter
from harness.compiler.quant import INT8_MAX, INT8_MIN, activation_range

MANTISSA_BITS = 53  # a double's significand
MANTISSA_LO_BITS = 26  # the C struct splits the mantissa in two int32 arrays
# The rounded product plus the output zero point must stay inside int32, as in the reference.
MAX_SCALED_ACCUMULATOR = 2**31 - 256
WEIGHTS_FORMATS = {
    code: name for name, code in vars(schema.FullyConnectedOptionsWeightsFormat).items() if not name.startswith("_")
}


def check_options(op: Operator) -> schema.FullyConnectedOptionsT:
    options = op.options or schema.FullyConnectedOptionsT()
    if options.weightsFormat != schema.FullyConnectedOptionsWeightsFormat.DEFAULT:
        name = WEIGHTS_FORMATS.get(options.weightsFormat, str(options.weightsFormat))
        raise op_error(op, f"weights format {name} is not supported (supported: DEFAULT)")
    if options.asymmetricQuantizeInputs:
        raise op_error(op, "asymmetric_quantize_inputs is not supported (it applies to hybrid float models only)")
    require_activation(op, options.fusedActivationFunction)
    return options


def batch_count(op: Operator, inp: Tensor, out: Tensor, units: int, depth: int, keep_num_dims: bool) -> int:
    """Rows of the flattened input; checks the output shape TFLite's Prepare would give."""
    if not inp.shape or inp.size == 0 or inp.size % depth:
        raise op_error(op, f"input {list(inp.shape)} cannot be flattened into rows of {depth} values")
    batches = inp.size // depth
    if keep_num_dims:
        if inp.shape[-1] != depth:
            raise op_error(
                op, f"keep_num_dims needs the input's last dimension to be {depth}, got {list(inp.shape)}"
            )
        expected = inp.shape[:-1] + (units,)
    else:
        expected = (batches, units)
    if out.shape != expected:
        raise op_error(op, f"output shape {list(out.shape)} does not match the expected {list(expected)}")
    return batches


def constant_bias(op: Operator, bias: Tensor | None, units: int) -> np.ndarray:
    if bias is None:
        return np.zeros(units, dtype=np.int64)
    require_dtype(op, bias, "int32", "bias")
    if not bias.is_constant or bias.size != units:
        raise op_error(op, f"bias {bias.describe()} must be a constant with {units} values")
    return bias.data.reshape(-1).astype(np.int64)


def effective_scales(inp: Tensor, filt: Tensor, out: Tensor) -> list[float]:
    """input_scale * filter_scale / output_scale per filter scale, each step in double."""
    return [
        float(np.float32(scale_of(inp))) * float(filter_scale) / float(np.float32(scale_of(out)))
        for filter_scale in np.asarray(filt.quant.scale, dtype=np.float32).reshape(-1)
    ]


def check_accumulator_range(
    op: Operator, filt: Tensor, bias: np.ndarray, input_offset: int, scales: list[float]
) -> None:
    """The largest |acc| these weights can reach must fit int32, and so must |acc| * scale rounded."""
    largest_input = max(abs(INT8_MIN + input_offset), abs(INT8_MAX + input_offset))
    bounds = np.abs(filt.data.astype(np.int64)).sum(axis=1) * largest_input + np.abs(bias)
    per_unit_scale = np.broadcast_to(np.asarray(scales), bounds.shape)
    for unit, (bound, scale) in enumerate(zip(bounds.tolist(), per_unit_scale.tolist())):
        if bound > 2**31 - 1 or max(bound, 1) * scale >= MAX_SCALED_ACCUMULATOR:
            raise op_error(
                op,
                f"unit {unit} can reach an accumulator of {bound} scaled by {scale:.6g}, which overflows "
                "int32 in the reference kernel (supported: |accumulator| < 2^31 and "
                f"|accumulator * scale| < {MAX_SCALED_ACCUMULATOR})",
            )


def split_scales(scales: list[float]) -> dict:
    """Each scale as mantissa * 2^-exponent, the 53-bit mantissa in two int32 halves."""
    mantissas, exponents = [], []
    for scale in scales:
        fraction, exponent = math.frexp(scale)
        mantissas.append(int(fraction * 2**MANTISSA_BITS))
        exponents.append(MANTISSA_BITS - exponent)
    mantissas = np.array(mantissas, dtype=np.int64)
    high, low = mantissas >> MANTISSA_LO_BITS, mantissas & (2**MANTISSA_LO_BITS - 1)
    return {
        "scale_mantissa_hi": ConstArray("scale_mantissa_hi", "int32_t", high.astype(np.int32)),
        "scale_mantissa_lo": ConstArray("scale_mantissa_lo", "int32_t", low.astype(np.int32)),
        "scale_exponent": ConstArray("scale_exponent", "int32_t", np.array(exponents, dtype=np.int32)),
    }


@lowering("FULLY_CONNECTED")
def lower_fully_connected(op: Operator, graph: Graph) -> KernelCall:
    inputs, out = operands(op, graph, (2, 3), "data, weights, optional bias")
    inp, filt = inputs[0], inputs[1]
    bias_tensor = inputs[2] if len(inputs) == 3 else None
    options = check_options(op)
    require_int8_activations(op, inp, out)
    require_dtype(op, filt, "int8", "filter")
    if not filt.is_constant or len(filt.shape) != 2 or 0 in filt.shape:
        raise op_error(op, f"filter {filt.describe()} must be a constant, non-empty 2-D (units, depth) tensor")
    units, depth = filt.shape
    check_symmetric_filter(op, filt, 0, units)
    batches = batch_count(op, inp, out, units, depth, options.keepNumDims)
    bias = constant_bias(op, bias_tensor, units)
    input_offset = -zero_point_of(inp)
    scales = effective_scales(inp, filt, out)
    check_accumulator_range(op, filt, bias, input_offset, scales)
    act_min, act_max = activation_range(options.fusedActivationFunction, scale_of(out), zero_point_of(out))
    params = {
        "batches": batches,
        "accum_depth": depth,
        "units": units,
        "input_offset": input_offset,
        "output_offset": zero_point_of(out),
        "act_min": act_min,
        "act_max": act_max,
        "per_channel": int(len(scales) > 1),
        "filter_data": ConstArray("filter", "int8_t", filt.data.reshape(-1)),
        "bias": None if bias_tensor is None else ConstArray("bias", "int32_t", bias_tensor.data.reshape(-1)),
        **split_scales(scales),
    }
    return KernelCall(
        op,
        "hil_fully_connected_s8",
        "hil_fully_connected_params",
        params,
        inputs=[inp.index],
        outputs=[out.index],
        macs=batches * units * depth,
    )
