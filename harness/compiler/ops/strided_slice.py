"""STRIDED_SLICE with constant begin, end and strides: values copied unchanged.

Each axis's range follows TFLite's strided_slice_logic (Python's slice semantics: negative indices
count from the end, begin/end masks take the whole axis in the stride's direction, indices
clamped to [0, size] going forwards and [-1, size - 1] going backwards; a shrunk axis takes one
element). Ellipsis and new-axis masks, the `offset` form and shrunk axes with negative
strides are refused.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import KernelCall, Shape4, lowering, op_error, operands, require_int8_activations
from harness.compiler.ops.data import check_same_quantization

MAX_RANK = 4


def constant_vector(op: Operator, tensor: Tensor | None, role: str, rank: int) -> list[int]:
    if tensor is None or not tensor.is_constant or tensor.dtype not in ("int32", "int64") or tensor.size != rank:
        raise op_error(op, f"{role} must be a constant int32 tensor of {rank} values")
    return [int(v) for v in tensor.data.reshape(-1)]


def axis_range(size: int, begin: int, end: int, stride: int, whole_begin: bool, whole_end: bool, shrink: bool):
    """(first index, element count) along one axis."""
    first = slice(None if whole_begin else begin, None, stride).indices(size)[0]
    if shrink:
        return first, 1
    stop = slice(None, None if whole_end else end, stride).indices(size)[1]
    return first, len(range(first, stop, stride))


@lowering("STRIDED_SLICE")
def lower_strided_slice(op: Operator, graph: Graph) -> KernelCall:
    inputs, out = operands(op, graph, (4,), "data, begin, end, strides")
    inp = inputs[0]
    require_int8_activations(op, inp, out)
    check_same_quantization(op, inp, out)
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_RANK:
        raise op_error(op, f"input {inp.describe()} has rank {rank} (supported: 1 to {MAX_RANK})")
    begin, end, strides = (
        constant_vector(op, tensor, role, rank) for tensor, role in zip(inputs[1:], ("begin", "end", "strides")))
    o = op.options or schema.StridedSliceOptionsT()
    if o.ellipsisMask or o.newAxisMask or getattr(o, "offset", False):
        raise op_error(op, "ellipsis and new-axis masks and the offset form are not supported "
                           "(supported: begin, end and shrink-axis masks)")
    if 0 in strides:
        raise op_error(op, f"strides {strides} contain 0")
    if any(o.shrinkAxisMask & (1 << axis) and stride < 0 for axis, stride in enumerate(strides)):
        # The reference's loop then stops before its first element and leaves the output unwritten.
        raise op_error(op, f"a shrunk axis with a negative stride ({strides}) is not supported (give it stride 1)")
    firsts, counts = [], []
    for axis, size in enumerate(inp.shape):
        bit = 1 << axis
        first, count = axis_range(size, begin[axis], end[axis], strides[axis], bool(o.beginMask & bit),
                                  bool(o.endMask & bit), bool(o.shrinkAxisMask & bit))
        firsts.append(first)
        counts.append(count)
    kept = tuple(c for axis, c in enumerate(counts) if not o.shrinkAxisMask & (1 << axis))
    if out.shape != kept:
        raise op_error(op, f"output shape {list(out.shape)} is not the slice's shape {list(kept)}")
    if 0 in counts:
        raise op_error(op, "an empty slice is not supported")
    dense = [int(np.prod(inp.shape[axis + 1:], dtype=np.int64)) for axis in range(rank)]
    pad = MAX_RANK - rank
    params = {
        "output": Shape4(*([1] * pad + counts)),
        "start": sum(first * step for first, step in zip(firsts, dense)),
        "input_steps": tuple([0] * pad + [stride * step for stride, step in zip(strides, dense)]),
    }
    return KernelCall(op, "hil_strided_slice_s8", "hil_strided_slice_params", params, [inp.index], [out.index])
