"""TRANSPOSE and RESHAPE: values move, quantization must not change."""

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


@lowering("RESHAPE")
def lower_reshape(op: Operator, graph: Graph) -> KernelCall:
    inp, out = int8_in_out(op, graph)
    if inp.size != out.size:
        raise op_error(op, f"input {list(inp.shape)} and output {list(out.shape)} hold different element counts")
    return KernelCall(op, "hil_reshape_s8", "hil_reshape_params", {"bytes": inp.nbytes}, [inp.index], [out.index])
