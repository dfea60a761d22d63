"""DEPTHWISE_CONV_2D: general kernel, or the 3x3 kernel for the common MobileNet-style layer."""

from __future__ import annotations

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    KernelCall,
    Shape4,
    lowering,
    op_error,
    require_dtype,
    require_int8_activations,
    shape4,
)
from harness.compiler.ops.conv import (
    check_symmetric_filter,
    requantization,
    spatial_geometry,
)

FILTER_CHANNEL_AXIS = 3  # the filter is (1, KH, KW, OC): per-channel scales run along OC


def depth_multiplier_of(op: Operator, inp: Tensor, filt: Tensor, out: Tensor) -> int:
    """Output channels per input channel, from the shapes as TFLite does (the option is not read)."""
    (batch, _, _, channels), (_, _, _, out_channels) = inp.shape, out.shape
    fits = channels > 0 and filt.shape[0] == 1 and filt.shape[3] == out_channels and out.shape[0] == batch
    if not fits or out_channels % channels:
        raise op_error(
            op,
            f"input {list(inp.shape)}, filter {list(filt.shape)} and output {list(out.shape)} do not fit "
            "(supported: input [N, H, W, C], filter [1, KH, KW, C*M], output [N, OH, OW, C*M])",
        )
    return out_channels // channels


def is_3x3_kernel(f_shape: Shape4, depth_multiplier: int, geometry: dict) -> bool:
    return (
        (f_shape.h, f_shape.w) == (3, 3)
        and depth_multiplier == 1
        and (geometry["dilation_h"], geometry["dilation_w"]) == (1, 1)
    )


@lowering("DEPTHWISE_CONV_2D")
def lower_depthwise(op: Operator, graph: Graph) -> KernelCall:
    inp, filt, *rest = graph.operator_inputs(op)
    bias = rest[0] if rest else None
    (out,) = graph.operator_outputs(op)
    if op.options is None:
        raise op_error(op, "the operator has no DepthwiseConv2DOptions (strides, padding, activation)")
    require_int8_activations(op, inp, out)
    require_dtype(op, filt, "int8", "filter")
    if not filt.is_constant or len(filt.shape) != 4:
        raise op_error(op, f"filter {filt.describe()} must be a constant 4-D (1, KH, KW, OC) tensor")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise op_error(op, f"input {list(inp.shape)} and output {list(out.shape)} must be 4-D (NHWC)")
    depth_multiplier = depth_multiplier_of(op, inp, filt, out)
    in_shape, out_shape, f_shape = shape4(op, inp), shape4(op, out), Shape4(*filt.shape)
    check_symmetric_filter(op, filt, FILTER_CHANNEL_AXIS, out_shape.c)
    geometry = spatial_geometry(op, op.options, in_shape, f_shape.h, f_shape.w, out_shape)
    params = {
        "input": in_shape,
        "filter": f_shape,
        "output": out_shape,
        **geometry,
        **requantization(op, inp, filt, bias, out, out_shape.c),
        "filter_data": ConstArray("filter", "int8_t", filt.data.reshape(-1)),
    }
    specialised = is_3x3_kernel(f_shape, depth_multiplier, geometry)
    return KernelCall(
        op,
        "hil_depthwise_conv_3x3_s8" if specialised else "hil_depthwise_conv_s8",
        "hil_conv_params",
        params,
        inputs=[inp.index],
        outputs=[out.index],
        scratch_bytes=in_shape.c if specialised else 0,  # one row of the input zero point
        macs=out_shape.n * out_shape.h * out_shape.w * out_shape.c * f_shape.h * f_shape.w,
    )
