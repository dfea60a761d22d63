"""MEAN over constant axes, int8: LiteRT's reference QuantizedMeanOrSum, whatever the axes.

For int8 the reference resolver's EvalMean always calls reference_ops::QuantizedMeanOrSum:
the special 4-D mean over axes (1, 2) exists only in the optimized kernel (and only with
keep_dims), and equal input/output quantization takes no shortcut. The arithmetic is an int32
sum, minus zero_point * count, times the input/output scale ratio with 1/count folded into
the Q31 multiplier exactly as the reference folds it.
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

MAX_RANK = 4
RUNS = 2  # hil_mean.h: kept and reduced runs alternate, so rank 4 has at most 2 of each
MAX_COUNT = 2**23  # 255 * count must fit int32: the centred sums cannot overflow
MAX_SCALE_RATIO = 2.0**29  # keeps the multiplier's left shift within 30 even after rounding


def resolved_axes(op: Operator, axes: Tensor | None, rank: int) -> list[int]:
    """Axes as TFLite resolves them: negatives counted from the end, duplicates dropped, order kept."""
    if axes is None:
        raise op_error(op, "the axes tensor is missing")
    if axes.size == 0:
        return []
    if not axes.is_constant or axes.dtype != "int32":
        raise op_error(op, f"axes {axes.describe()} must be a constant int32 tensor")
    resolved: list[int] = []
    for axis in axes.data.reshape(-1).tolist():
        if not -rank <= axis < rank:
            raise op_error(op, f"axis {axis} is out of range for an input of rank {rank}")
        if axis % rank not in resolved:
            resolved.append(axis % rank)
    return resolved


def check_output_shape(op: Operator, inp: Tensor, out: Tensor, axes: list[int], keep_dims: bool) -> None:
    if keep_dims:
        expected = tuple(1 if i in axes else d for i, d in enumerate(inp.shape))
    else:
        expected = tuple(d for i, d in enumerate(inp.shape) if i not in axes)
    if out.shape != expected:
        raise op_error(op, f"output shape {list(out.shape)} does not match the expected {list(expected)}")


def loop_nest(shape: tuple[int, ...], axes: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(sizes, strides in elements) of the given input axes in input order, as a nest of RUNS
    loops padded at the front with (1, 0): axes of size 1 dropped and neighbours that walk memory
    as one run merged (the kernel's innermost loop then is the longest run there is). Neither
    changes the order the positions are visited in."""
    strides = [int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape))]
    nest: list[tuple[int, int]] = []
    for axis in sorted(axes):
        size, stride = shape[axis], strides[axis]
        if size == 1:
            continue
        if nest and nest[-1][1] == size * stride:
            nest[-1] = (nest[-1][0] * size, stride)
        else:
            nest.append((size, stride))
    pad = RUNS - len(nest)
    return tuple([1] * pad + [size for size, _ in nest]), tuple([0] * pad + [stride for _, stride in nest])


def mean_requantization(op: Operator, inp: Tensor, out: Tensor, count: int) -> dict:
    """TFLite's multiplier for input_scale / output_scale (double), with 1/count folded in."""
    ratio = float(np.float32(scale_of(inp))) / float(np.float32(scale_of(out)))
    if ratio >= MAX_SCALE_RATIO:
        raise op_error(op, f"input/output scale ratio {ratio:.6g} is not supported (supported: below 2^29)")
    multiplier, shift = quantize_multiplier(ratio)
    # The reference divides the multiplier by count after a left shift of floor(log2(count)),
    # capped so that the shift stays within 32 and the final right shift within 31.
    fold = min(count.bit_length() - 1, 32, 31 + shift)
    return {
        "sum_offset": -zero_point_of(inp) * count,
        "multiplier": (multiplier << fold) // count,
        "shift": shift - fold,
        "output_offset": zero_point_of(out),
    }


@lowering("MEAN")
def lower_mean(op: Operator, graph: Graph) -> KernelCall:
    inputs, out = operands(op, graph, (2,), "data, axes")
    inp = inputs[0]
    require_int8_activations(op, inp, out)
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_RANK or inp.size == 0:
        raise op_error(op, f"input {inp.describe()} is not supported (supported: non-empty, rank 1 to {MAX_RANK})")
    axes = resolved_axes(op, inputs[1], rank)
    keep_dims = bool((op.options or schema.ReducerOptionsT()).keepDims)
    check_output_shape(op, inp, out, axes, keep_dims)
    count = int(np.prod([inp.shape[a] for a in axes], dtype=np.int64))
    if count > MAX_COUNT:
        raise op_error(op, f"averaging {count} values is not supported (supported: at most {MAX_COUNT})")
    kept_dims, kept_strides = loop_nest(inp.shape, [i for i in range(rank) if i not in axes])
    reduced_dims, reduced_strides = loop_nest(inp.shape, axes)
    params = {
        "kept_dims": kept_dims,
        "kept_strides": kept_strides,
        "reduced_dims": reduced_dims,
        "reduced_strides": reduced_strides,
        **mean_requantization(op, inp, out, count),
    }
    return KernelCall(op, "hil_mean_s8", "hil_mean_params", params, [inp.index], [out.index], macs=inp.size)
