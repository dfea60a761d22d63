"""CONV_2D: the packed kernels (1x1, the 3x3 depthwise kernel for one input channel, or im2col for any other
ungrouped convolution), else the general one.

The packed kernels take the filter and bias prepared here, at compile time: the filter packed in
the order their inner loop reads it and the input zero point folded into the bias (see
firmware_stub/kernels/hil_conv.h), so the loop on the device does nothing but multiply-accumulate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    ConstArray,
    InPlaceRule,
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
    if max(map(abs, shifts), default=0) > 127:
        raise op_error(op, f"the scales give a requantization shift of {max(shifts, key=abs)}, beyond 2^127: "
                           "the input, filter and output scales are not of one model")
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
        "shift": ConstArray("shift", "int8_t", np.array(shifts, dtype=np.int8)),  # int8 in flash (hil_conv.h)
    }


MAX_PARTIAL_SUM = 2**31 - 1  # int32: the packed kernels' running sums
MAX_REQUANTIZED = 2**30 - 1  # hil_requant's bound on the (left-shifted) accumulator
PACKED_SHIFTS = range(-31, 31)
# hil_conv_packed_params: strides and dilations are uint16, the padding int16, the shapes int32
PACKED_STEPS = range(0, 2**16)
PACKED_PADDING = range(-2**15, 2**15)


def round_up_4(value: int) -> int:
    return (value + 3) // 4 * 4


def fastest_chunk(k4: int, pixels: int) -> int:
    """The packed kernels' largest useful chunk_pixels (hil_conv.h) for a layer of `pixels` output
    pixels (per image for im2col): up to 64 pixels, and the widened taps within 32 KiB."""
    return max(min((16384 // k4) & ~1, 64, pixels + pixels % 2), 2)


def packed_k4(call: KernelCall) -> int:
    f = call.params["filter"]
    return round_up_4(f.h * f.w * f.c)


def packed_band_scratch(call: KernelCall, rows: int) -> int:
    """The packed conv kernels' scratch (hil_conv.h) for a call that writes `rows` output rows (the
    whole layer: output.h): a chunk's accumulators for one channel pair, the pair's filter widened to
    int16, the chunk's taps widened; im2col also gathers the taps."""
    out, k4 = call.params["output"], packed_k4(call)
    pixels = rows * out.w * (out.n if call.function == "hil_conv_1x1_s8" else 1)
    chunk = min(call.params["chunk_pixels"], pixels + pixels % 2)
    gathered = chunk * k4 if call.function == "hil_conv_im2col_s8" else 0
    return 8 * chunk + 4 * k4 + 2 * chunk * k4 + gathered


def with_chunk(call: KernelCall, chunk: int) -> KernelCall:
    """The packed conv call with another chunk_pixels, and the scratch that goes with it."""
    changed = replace(call, params={**call.params, "chunk_pixels": chunk})
    return replace(changed, scratch_bytes=packed_band_scratch(changed, call.params["output"].h))


def pack_filter(filters: np.ndarray) -> np.ndarray:
    """(channels, K) int8 -> the packed order of hil_conv.h: K padded to K4, channels in pairs
    interleaved by groups of 4 taps, an odd last channel alone."""
    channels, taps = filters.shape
    k4 = round_up_4(taps)
    padded = np.zeros((channels, k4), dtype=np.int8)
    padded[:, :taps] = filters
    pairs = channels // 2
    # (pair, channel in pair, group, tap in group) -> (pair, group, channel in pair, tap in group)
    paired = padded[: 2 * pairs].reshape(pairs, 2, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1)
    return np.concatenate([paired, padded[2 * pairs:].reshape(-1)])


def folded_bias(filters: np.ndarray, bias: np.ndarray | None, input_offset: int) -> np.ndarray:
    """bias + input_offset * sum(filter) per channel: the accumulator without the input offset."""
    base = np.zeros(filters.shape[0], dtype=np.int64) if bias is None else bias.astype(np.int64)
    return base + input_offset * filters.astype(np.int64).sum(axis=1)


def packed_kernel_fits(filters: np.ndarray, bias: np.ndarray | None, shifts: list[int]) -> bool:
    """The packed kernels' range, from the actual filter and bias, whatever the int8 input:
    no running sum leaves int32 (|bias| + 256 * sum|filter| bounds every partial sum, with the
    input zero point folded in or not) and the accumulator, |bias| + 255 * sum|filter| at most,
    shifted left by the channel's shift, stays below 2^30 (hil_requant in hil_fixedpoint.h).
    Outside it the general kernel runs, exactly as the reference."""
    weight_sums = np.abs(filters.astype(np.int64)).sum(axis=1)
    bias_sizes = np.zeros_like(weight_sums) if bias is None else np.abs(bias.astype(np.int64))
    left_shifts = np.maximum(np.asarray(shifts, dtype=np.int64), 0)
    if any(shift not in PACKED_SHIFTS for shift in shifts):
        return False
    partial = bias_sizes + 256 * weight_sums
    accumulator = (bias_sizes + 255 * weight_sums) << left_shifts
    return bool(np.all(partial <= MAX_PARTIAL_SUM) and np.all(accumulator <= MAX_REQUANTIZED))


def packed_geometry(op: Operator, shapes: dict) -> dict:
    """The shapes and geometry as hil_conv_packed_params holds them, the geometry in 16 bits; a layer
    whose values do not fit is refused, never truncated in C."""
    for field, value in shapes.items():
        if isinstance(value, Shape4):
            continue
        allowed = PACKED_PADDING if field.startswith("pad_") else PACKED_STEPS
        if value not in allowed:
            raise op_error(op, f"{field} {value} does not fit the packed convolution kernels' 16-bit field "
                               f"({allowed.start} to {allowed.stop - 1}); this layer is beyond them")
    return shapes


def packed_params(op: Operator, shapes: dict, inp: Tensor, filters: np.ndarray, packed: np.ndarray,
                  quantization: dict) -> dict:
    """hil_conv_packed_params: the shapes and geometry (checked to fit), the packed filter as given,
    the bias folded from the (channels, taps) filters, the requantization."""
    bias = quantization["bias"]
    folded = folded_bias(filters, None if bias is None else bias.values, quantization["input_offset"])
    return {
        **packed_geometry(op, shapes),
        "input_zero_point": zero_point_of(inp),
        "output_offset": quantization["output_offset"],
        "act_min": quantization["act_min"],
        "act_max": quantization["act_max"],
        "packed_filter": ConstArray("packed_filter", "int8_t", packed),
        "folded_bias": ConstArray("folded_bias", "int32_t", folded.astype(np.int32)),
        "multiplier": quantization["multiplier"],
        "shift": quantization["shift"],
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
    quantization = requantization(op, inp, filt, bias, out, out_shape.c)
    macs = out_shape.n * out_shape.h * out_shape.w * out_shape.c * f_shape.h * f_shape.w * f_shape.c
    shapes = {"input": in_shape, "filter": f_shape, "output": out_shape, **geometry}
    filters = filt.data.reshape(f_shape.n, -1)
    bias_values = None if quantization["bias"] is None else quantization["bias"].values
    fits = packed_kernel_fits(filters, bias_values, list(quantization["shift"].values))
    if fits and in_shape.c == 1:
        # Imported here: ops/depthwise.py imports this module's helpers.
        from harness.compiler.ops.depthwise import is_3x3_kernel, kernel_3x3_call

        if is_3x3_kernel(f_shape, geometry):
            # A depthwise convolution whose multiplier is the output channels (the filter's OHWI
            # order is each output channel's 9 taps together, as that kernel reads them).
            return kernel_3x3_call(op, inp, out, shapes, filters, quantization, macs)
    if f_shape.c == in_shape.c and fits:
        pixels = out_shape.h * out_shape.w * (out_shape.n if is_pointwise else 1)
        call = KernelCall(
            op,
            "hil_conv_1x1_s8" if is_pointwise else "hil_conv_im2col_s8",
            "hil_conv_packed_params",
            packed_params(op, shapes, inp, filters, pack_filter(filters), quantization),
            inputs=[inp.index],
            outputs=[out.index],
            macs=macs,
            # hil_conv.h: in place when the input starts at least (output - input) bytes after the output
            in_place=InPlaceRule(min_tail=max(0, out.nbytes - inp.nbytes)) if is_pointwise else None,
            band_scratch=packed_band_scratch,
        )
        return with_chunk(call, fastest_chunk(round_up_4(filters.shape[1]), pixels))
    params = {
        **shapes,
        "filter_data": ConstArray("filter", "int8_t", filt.data.reshape(-1)),
        **quantization,
    }
    return KernelCall(op, "hil_conv_s8", "hil_conv_params", params, inputs=[inp.index], outputs=[out.index], macs=macs)
