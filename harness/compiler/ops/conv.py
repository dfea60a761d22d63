"""CONV_2D: general kernel, or the 1x1 kernel when the filter is a plain per-pixel product."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    KernelCall,
    Shape4,
    lowering,
    op_error,
    require_activation,
    require_dtype,
    require_int8_activations,
    require_quantized,
    scale_of,
    shape4,
    zero_point_of,
)
from harness.compiler.quant import activation_range, per_channel_multipliers


def output_size(padding: int, image: int, filter_size: int, stride: int, dilation: int) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == schema.Padding.SAME:
        return (image + stride - 1) // stride
    return (image + stride - effective) // stride


def leading_padding(stride: int, dilation: int, image: int, filter_size: int, out: int) -> int:
    """Top/left padding; the odd extra row or column goes to the bottom/right, as in TFLite."""
    effective = (filter_size - 1) * dilation + 1
    return max((out - 1) * stride + effective - image, 0) // 2


def check_padding(op: Operator, padding: int) -> None:
    if padding not in (schema.Padding.SAME, schema.Padding.VALID):
        raise op_error(op, f"padding {padding} is not supported (supported: SAME, VALID)")


def spatial_geometry(op: Operator, options, inp: Shape4, kernel_h: int, kernel_w: int, out: Shape4) -> dict:
    """Stride, dilation and padding fields shared by convolution-like kernels."""
    check_padding(op, options.padding)
    dilation_h = getattr(options, "dilationHFactor", 1) or 1
    dilation_w = getattr(options, "dilationWFactor", 1) or 1
    stride_h, stride_w = options.strideH, options.strideW
    if min(stride_h, stride_w, dilation_h, dilation_w) < 1:
        raise op_error(op, f"stride ({stride_h}, {stride_w}) and dilation ({dilation_h}, {dilation_w}) must be >= 1")
    expected = (
        output_size(options.padding, inp.h, kernel_h, stride_h, dilation_h),
        output_size(options.padding, inp.w, kernel_w, stride_w, dilation_w),
    )
    if expected != (out.h, out.w):
        raise op_error(op, f"output is {out.h}x{out.w} but the geometry gives {expected[0]}x{expected[1]}")
    return {
        "stride_h": stride_h,
        "stride_w": stride_w,
        "dilation_h": dilation_h,
        "dilation_w": dilation_w,
        "pad_h": leading_padding(stride_h, dilation_h, inp.h, kernel_h, out.h),
        "pad_w": leading_padding(stride_w, dilation_w, inp.w, kernel_w, out.w),
    }


def check_symmetric_filter(op: Operator, filt: Tensor, channel_axis: int, channels: int) -> None:
    require_quantized(op, filt, "filter", per_tensor=False)
    if np.any(filt.quant.zero_point != 0):
        raise op_error(op, f"filter {filt.describe()} must be symmetric (zero point 0)")
    if filt.quant.per_channel and (filt.quant.axis != channel_axis or filt.quant.scale.size != channels):
        raise op_error(
            op, f"filter {filt.describe()} must be quantized per output channel along axis {channel_axis}"
        )


def requantization(op: Operator, inp: Tensor, filt: Tensor, bias: Tensor | None, out: Tensor, channels: int) -> dict:
    """Per-channel multipliers, bias and output clamp shared by CONV_2D and DEPTHWISE_CONV_2D."""
    multipliers, shifts = per_channel_multipliers(scale_of(inp), filt.quant.scale, scale_of(out), channels)
    act_min, act_max = activation_range(
        require_activation(op, op.options.fusedActivationFunction), scale_of(out), zero_point_of(out)
    )
    bias_array = None
    if bias is not None:
        require_dtype(op, bias, "int32", "bias")
        if not bias.is_constant or bias.size != channels:
            raise op_error(op, f"bias {bias.describe()} must be a constant with {channels} values")
        bias_array = ConstArray("bias", "int32_t", bias.data.reshape(-1))
    return {
        "input_offset": -zero_point_of(inp),
        "output_offset": zero_point_of(out),
        "act_min": act_min,
        "act_max": act_max,
        "bias": bias_array,
        "multiplier": ConstArray("multiplier", "int32_t", np.array(multipliers, dtype=np.int32)),
        "shift": ConstArray("shift", "int32_t", np.array(shifts, dtype=np.int32)),
    }


@lowering("CONV_2D")
def lower_conv(op: Operator, graph: Graph) -> KernelCall:
    inp, filt, *rest = graph.operator_inputs(op)
    bias = rest[0] if rest else None
    (out,) = graph.operator_outputs(op)
    require_int8_activations(op, inp, out)
    require_dtype(op, filt, "int8", "filter")
    if not filt.is_constant or len(filt.shape) != 4:
        raise op_error(op, f"filter {filt.describe()} must be a constant 4-D (OHWI) tensor")
    in_shape, out_shape = shape4(op, inp), shape4(op, out)
    f_shape = Shape4(*filt.shape)
    if in_shape.c % f_shape.c or f_shape.n != out_shape.c or out_shape.c % (in_shape.c // f_shape.c):
        raise op_error(
            op, f"input {list(inp.shape)}, filter {list(filt.shape)} and output {list(out.shape)} do not fit"
        )
    check_symmetric_filter(op, filt, 0, out_shape.c)
    geometry = spatial_geometry(op, op.options, in_shape, f_shape.h, f_shape.w, out_shape)
    is_pointwise = (
        (f_shape.h, f_shape.w) == (1, 1)
        and (geometry["stride_h"], geometry["stride_w"]) == (1, 1)
        and f_shape.c == in_shape.c
    )
    params = {
        "input": in_shape,
        "filter": f_shape,
        "output": out_shape,
        **geometry,
        "filter_data": ConstArray("filter", "int8_t", filt.data.reshape(-1)),
        **requantization(op, inp, filt, bias, out, out_shape.c),
    }
    macs = out_shape.n * out_shape.h * out_shape.w * out_shape.c * f_shape.h * f_shape.w * f_shape.c
    return KernelCall(
        op,
        "hil_conv_1x1_s8" if is_pointwise else "hil_conv_s8",
        "hil_conv_params",
        params,
        inputs=[inp.index],
        outputs=[out.index],
        macs=macs,
    )
