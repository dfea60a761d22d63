"""PAD and PADV2: the input inside a larger output filled with a constant (the zero point for PAD,
the given value for PADV2); values move unchanged, so the quantization must not change."""

from __future__ import annotations

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    KernelCall,
    lowering,
    op_error,
    operands,
    require_int8_activations,
    shape4,
    zero_point_of,
)
from harness.compiler.ops.data import check_same_quantization

MAX_RANK = 4

def paddings_of(op: Operator, paddings: Tensor | None, rank: int) -> list[tuple[int, int]]:
    if paddings is None or not paddings.is_constant or paddings.dtype not in ("int32", "int64"):
        raise op_error(op, "the paddings must be a constant int32 or int64 tensor")
    if paddings.shape != (rank, 2):
        raise op_error(op, f"paddings {paddings.describe()} must have shape [{rank}, 2] for an input of rank {rank}")
    pairs = [(int(before), int(after)) for before, after in paddings.data.reshape(rank, 2)]
    if any(before < 0 or after < 0 for before, after in pairs):
        raise op_error(op, f"paddings {[list(p) for p in pairs]} contain a negative amount (supported: >= 0)")
    return pairs

def pad_value_of(op: Operator, constant: Tensor | None, out: Tensor) -> int:
    """PADV2's value, which TFLite requires to be quantized as the output is."""
    if constant is None:
        return zero_point_of(out)
    if not constant.is_constant or constant.dtype != "int8" or constant.size != 1:
        raise op_error(op, f"the padding value {constant.describe()} must be one constant int8 value")
    check_same_quantization(op, constant, out)
    return int(constant.data.reshape(-1)[0])

def lower_pad(op: Operator, graph: Graph) -> KernelCall:
    inputs, out = operands(op, graph, (3,) if op.kind == "PADV2" else (2,), "data, paddings[, value]")
    inp = inputs[0]
    require_int8_activations(op, inp, out)
    check_same_quantization(op, inp, out)
    rank = len(inp.shape)
    if not 1 <= rank <= MAX_RANK:
        raise op_error(op, f"input {inp.describe()} has rank {rank} (supported: 1 to {MAX_RANK})")
    pairs = paddings_of(op, inputs[1], rank)
    expected = tuple(before + dim + after for dim, (before, after) in zip(inp.shape, pairs, strict=True))
    if out.shape != expected:
        raise op_error(op, f"output shape {list(out.shape)} is not the padded shape {list(expected)}")
    before = [0] * (MAX_RANK - rank) + [b for b, _ in pairs]
    params = {
        "input": shape4(op, inp),
        "output": shape4(op, out),
        "before": tuple(before),
        "pad_value": pad_value_of(op, inputs[2] if len(inputs) == 3 else None, out),
    }
    return KernelCall(op, "hil_pad_s8", "hil_pad_params", params, [inp.index], [out.index])

lowering("PAD")(lower_pad)
lowering("PADV2")(lower_pad)
