"""AVERAGE_POOL_2D and MAX_POOL_2D: windows over raw int8 values, input and output quantized alike."""

from __future__ import annotations

from harness.compiler.graph import Graph, Operator
from harness.compiler.lowering import (
    KernelCall,
    lowering,
    op_error,
    require_activation,
    scale_of,
    shape4,
    zero_point_of,
)
from harness.compiler.ops.conv import spatial_geometry
from harness.compiler.ops.data import int8_in_out
from harness.compiler.quant import activation_range

MAX_WINDOW = 1 << 23  # HIL_POOL_MAX_WINDOW: the int32 window sum cannot overflow


def lower_pool(op: Operator, graph: Graph, function: str) -> KernelCall:
    # The reference kernels never rescale: they assume (and only DCHECK) equal quantization.
    inp, out = int8_in_out(op, graph)
    if len(inp.shape) != 4 or len(out.shape) != 4:
        raise op_error(op, f"input {list(inp.shape)} and output {list(out.shape)} must be 4-D (NHWC)")
    in_shape, out_shape = shape4(op, inp), shape4(op, out)
    if (in_shape.n, in_shape.c) != (out_shape.n, out_shape.c):
        raise op_error(op, f"input {list(inp.shape)} and output {list(out.shape)} differ in batch or channels")
    options = op.options
    if options is None:
        raise op_error(op, "the operator has no Pool2DOptions (filter size, strides, padding, activation)")
    filter_h, filter_w = options.filterHeight, options.filterWidth
    if filter_h < 1 or filter_w < 1 or filter_h * filter_w > MAX_WINDOW:
        raise op_error(op, f"filter {filter_h}x{filter_w} is not supported (supported: 1 to {MAX_WINDOW} taps)")
    geometry = spatial_geometry(op, options, in_shape, filter_h, filter_w, out_shape)
    act_min, act_max = activation_range(
        require_activation(op, options.fusedActivationFunction), scale_of(out), zero_point_of(out)
    )
    params = {
        "input": in_shape,
        "output": out_shape,
        "filter_h": filter_h,
        "filter_w": filter_w,
        **{key: geometry[key] for key in ("stride_h", "stride_w", "pad_h", "pad_w")},
        "act_min": act_min,
        "act_max": act_max,
    }
    taps = out_shape.n * out_shape.h * out_shape.w * out_shape.c * filter_h * filter_w
    return KernelCall(op, function, "hil_pool_params", params, [inp.index], [out.index], macs=taps)


@lowering("AVERAGE_POOL_2D")
def lower_average_pool(op: Operator, graph: Graph) -> KernelCall:
    return lower_pool(op, graph, "hil_avg_pool_s8")


@lowering("MAX_POOL_2D")
def lower_max_pool(op: Operator, graph: Graph) -> KernelCall:
    return lower_pool(op, graph, "hil_max_pool_s8")
