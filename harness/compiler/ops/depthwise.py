"""DEPTHWISE_CONV_2D: general kernel, or the 3x3 kernel for the common MobileNet-style layer (which also
runs a 3x3 convolution with one input channel, see ops/conv.py).

The 3x3 kernel takes its filter and bias prepared here (each channel's 9 taps together, the input
zero point folded into the bias; see firmware_stub/kernels/hil_depthwise.h).
"""

from __future__ import annotations

from dataclasses import replace

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    InPlaceRule,
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
    packed_kernel_fits,
    packed_params,
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


def is_3x3_kernel(f_shape: Shape4, geometry: dict) -> bool:
    return (f_shape.h, f_shape.w) == (3, 3) and (geometry["dilation_h"], geometry["dilation_w"]) == (1, 1)


def kernel_3x3_band_scratch(call: KernelCall, rows: int) -> int:
    """hil_depthwise_conv_3x3_s8's scratch (hil_depthwise.h) for a call that writes `rows` output rows
    (the whole layer: output.h): a row of int32 accumulators, then the int16 window of a band of
    output rows (all of them for depth multiplier 1, else 2), its rows an even number of values
    apart for stride 1."""
    p = call.params
    out, stride_w = p["output"], p["stride_w"]
    band = rows if out.c == p["input"].c else min(rows, 2)
    copy_h = (band - 1) * p["stride_h"] + 3
    copy_w = (out.w - 1) * stride_w + 3
    pitch = copy_w + copy_w % 2 if stride_w == 1 else copy_w
    return 4 * out.w + 2 * copy_h * pitch


def kernel_3x3_call(op: Operator, inp: Tensor, out: Tensor, shapes: dict, filters, quantization: dict,
                    macs: int) -> KernelCall:
    """hil_depthwise_conv_3x3_s8 for a 3x3, dilation 1 filter given as (output channels, 9 taps); also
    the kernel of a convolution with one input channel, a depthwise one whose multiplier is its outputs."""
    in_shape, out_shape = shapes["input"], shapes["output"]
    depth_multiplier = out_shape.c // in_shape.c
    shapes = {**shapes, "filter": Shape4(1, 3, 3, out_shape.c)}
    params = {**packed_params(op, shapes, inp, filters, filters.reshape(-1), quantization), "chunk_pixels": 0}
    call = KernelCall(
        op,
        "hil_depthwise_conv_3x3_s8",
        "hil_conv_packed_params",
        params,
        inputs=[inp.index],
        outputs=[out.index],
        macs=macs,
        # hil_depthwise.h: with multiplier 1 a channel's outputs land on its own input, copied by
        # then, when the output is a whole number of pixels away from the input (one image only)
        in_place=InPlaceRule(min_tail=None, step=out_shape.c) if out_shape.n == 1 and depth_multiplier == 1 else None,
        band_scratch=kernel_3x3_band_scratch,
    )
    return replace(call, scratch_bytes=kernel_3x3_band_scratch(call, out_shape.h))


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
    depth_multiplier_of(op, inp, filt, out)  # the shapes fit together
    in_shape, out_shape, f_shape = shape4(op, inp), shape4(op, out), Shape4(*filt.shape)
    check_symmetric_filter(op, filt, FILTER_CHANNEL_AXIS, out_shape.c)
    geometry = spatial_geometry(op, op.options, in_shape, f_shape.h, f_shape.w, out_shape)
    shapes = {"input": in_shape, "filter": f_shape, "output": out_shape, **geometry}
    quantization = requantization(op, inp, filt, bias, out, out_shape.c)
    macs = out_shape.n * out_shape.h * out_shape.w * out_shape.c * f_shape.h * f_shape.w
    filters = filt.data.reshape(-1, out_shape.c).T  # (channels, taps)
    bias_values = None if quantization["bias"] is None else quantization["bias"].values
    shifts = list(quantization["shift"].values)
    if is_3x3_kernel(f_shape, geometry) and packed_kernel_fits(filters, bias_values, shifts):
        return kernel_3x3_call(op, inp, out, shapes, filters, quantization, macs)
    params = {
        **shapes,
        **quantization,
        "filter_data": ConstArray("filter", "int8_t", filt.data.reshape(-1)),
    }
    return KernelCall(
        op, "hil_depthwise_conv_s8", "hil_conv_params", params, inputs=[inp.index], outputs=[out.index], macs=macs
    )
