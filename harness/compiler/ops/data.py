"""TRANSPOSE and the views (RESHAPE, SQUEEZE, EXPAND_DIMS): values move, quantization must not change."""

from __future__ import annotations

import numpy as np

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import KernelCall, lowering, op_error, require_dtype

MAX_TRANSPOSE_RANK = 6


def check_same_quantization(op: Operator, inp: Tensor, out: Tensor) -> None:
    same = (
        inp.quant is not None
        and out.quant is not None
        and np.array_equal(inp.quant.scale, out.quant.scale)
        and np.array_equal(inp.quant.zero_point, out.quant.zero_point)
    )
    if not same:
        raise op_error(op, f"input {inp.describe()} and output {out.describe()} must share scale and zero point")


def int8_in_out(op: Operator, graph: Graph) -> tuple[Tensor, Tensor]:
    inp = require_dtype(op, graph.operator_inputs(op)[0], "int8", "input")
    (out,) = graph.operator_outputs(op)
    require_dtype(op, out, "int8", "output")
    check_same_quantization(op, inp, out)
    return inp, out


@lowering("TRANSPOSE")
def lower_transpose(op: Operator, graph: Graph) -> KernelCall:
    inp, out = int8_in_out(op, graph)
    perm_tensor = graph.operator_inputs(op)[1]
    if perm_tensor is None or not perm_tensor.is_constant:
        raise op_error(op, "the permutation must be a constant tensor")
    perm = [int(v) for v in perm_tensor.data.reshape(-1)]
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_TRANSPOSE_RANK:
        raise op_error(op, f"rank {rank} is not supported (1 to {MAX_TRANSPOSE_RANK})")
    if sorted(perm) != list(range(rank)):
        raise op_error(op, f"permutation {perm} is not a permutation of {rank} axes")
    if tuple(inp.shape[a] for a in perm) != out.shape:
        raise op_error(op, f"output shape {list(out.shape)} does not match permutation {perm} of {list(inp.shape)}")
    pad = [0] * (MAX_TRANSPOSE_RANK - rank)
    params = {"rank": rank, "input_dims": tuple(list(inp.shape) + pad), "perm": tuple(perm + pad)}
    return KernelCall(op, "hil_transpose_s8", "hil_transpose_params", params, [inp.index], [out.index])


def view_call(op: Operator, inp: Tensor, out: Tensor) -> KernelCall:
    """The same bytes under another shape: a copy only when the planner gives them two buffers."""
    if inp.size != out.size:
        raise op_error(op, f"input {list(inp.shape)} and output {list(out.shape)} hold different element counts")
    return KernelCall(op, "hil_reshape_s8", "hil_reshape_params", {"bytes": inp.nbytes}, [inp.index], [out.index])


@lowering("RESHAPE")
def lower_reshape(op: Operator, graph: Graph) -> KernelCall:
    inp, out = int8_in_out(op, graph)
    return view_call(op, inp, out)


@lowering("SQUEEZE")
def lower_squeeze(op: Operator, graph: Graph) -> KernelCall:
    """Dimensions of size 1 dropped: the listed ones, or all of them when none are listed."""
    inp, out = int8_in_out(op, graph)
    rank = len(inp.shape)
    listed = list(getattr(op.options, "squeezeDims", None) or [])
    if any(not -rank <= axis < rank for axis in listed):
        raise op_error(op, f"squeeze axes {listed} are out of range for an input of rank {rank}")
    axes = {axis % rank for axis in listed} or {i for i, dim in enumerate(inp.shape) if dim == 1}
    if any(inp.shape[axis] != 1 for axis in axes):
        raise op_error(op, f"squeeze axes {sorted(axes)} of {list(inp.shape)} are not all of size 1")
    expected = tuple(dim for i, dim in enumerate(inp.shape) if i not in axes)
    if out.shape != expected:
        raise op_error(op, f"output shape {list(out.shape)} is not the squeezed shape {list(expected)}")
    return view_call(op, inp, out)


@lowering("EXPAND_DIMS")
def lower_expand_dims(op: Operator, graph: Graph) -> KernelCall:
    """A dimension of size 1 inserted at a constant axis (negative counts from the end of the output)."""
    inp, out = int8_in_out(op, graph)
    axis_tensor = graph.operator_inputs(op)[1] if len(op.inputs) == 2 else None
    if axis_tensor is None or not axis_tensor.is_constant or axis_tensor.size != 1:
        raise op_error(op, "the axis must be one constant integer")
    rank = len(inp.shape)
    axis = int(axis_tensor.data.reshape(-1)[0])
    if not -rank - 1 <= axis <= rank:
        raise op_error(op, f"axis {axis} is out of range for an input of rank {rank}")
    axis %= rank + 1
    expected = inp.shape[:axis] + (1,) + inp.shape[axis:]
    if out.shape != expected:
        raise op_error(op, f"output shape {list(out.shape)} is not the expanded shape {list(expected)}")
    return view_call(op, inp, out)
