"""CONCATENATION along any axis, int8: values copied unchanged.

TFLite's int8 kernel requires every input to share the output's scale and zero point (its Prepare
refuses anything else, so no reference exists for requantizing inputs); the converter quantizes
concatenated branches that way.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.graph import Graph, Operator
from harness.compiler.lowering import ConstArray, KernelCall, lowering, op_error, require_int8_activation
from harness.compiler.ops.data import check_same_quantization
from harness.compiler.quant import ACT_NONE

MAX_INPUTS = 64  # HIL_CONCAT_MAX_INPUTS


@lowering("CONCATENATION")
def lower_concatenation(op: Operator, graph: Graph) -> KernelCall:
    inputs, (out,) = graph.operator_inputs(op), graph.operator_outputs(op)
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise op_error(op, f"{len(inputs)} inputs are not supported (supported: 1 to {MAX_INPUTS})")
    require_int8_activation(op, out, "output")
    for number, tensor in enumerate(inputs):
        require_int8_activation(op, tensor, f"input {number}")
        check_same_quantization(op, tensor, out)
    options = op.options or schema.ConcatenationOptionsT()
    if options.fusedActivationFunction != ACT_NONE:
        raise op_error(op, "a fused activation is not supported (TFLite allows none on CONCATENATION)")
    rank = len(out.shape)
    if not -rank <= options.axis < rank:
        raise op_error(op, f"axis {options.axis} is out of range for rank {rank}")
    axis = options.axis % rank
    for number, tensor in enumerate(inputs):
        others = [(d, o) for i, (d, o) in enumerate(zip(tensor.shape, out.shape)) if i != axis]
        if len(tensor.shape) != rank or any(d != o for d, o in others):
            raise op_error(
                op, f"input {number} {tensor.describe()} does not fit output {list(out.shape)} along axis {axis}")
    if sum(tensor.shape[axis] for tensor in inputs) != out.shape[axis]:
        raise op_error(op, f"the inputs' sizes along axis {axis} do not add up to the output's {out.shape[axis]}")
    inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    slice_bytes = np.array([tensor.shape[axis] * inner for tensor in inputs], dtype=np.int32)
    params = {
        "count": len(inputs),
        "outer": int(np.prod(out.shape[:axis], dtype=np.int64)),
        "slice_bytes": ConstArray("slice_bytes", "int32_t", slice_bytes),
    }
    return KernelCall(op, "hil_concat_s8", "hil_concat_params", params, [t.index for t in inputs], [out.index])
