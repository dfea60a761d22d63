"""What the two-input elementwise operators (ADD, SUB, MUL) share: their operands, TFLite's 4-D
broadcast expressed as element strides, and the fused activation's clamp range."""

from __future__ import annotations

from dataclasses import astuple, dataclass

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.lowering import (
    Shape4,
    op_error,
    require_activation,
    require_int8_activation,
    scale_of,
    shape4,
    zero_point_of,
)
from harness.compiler.quant import ACT_NONE, activation_range


def broadcast_shape(a: Shape4, b: Shape4) -> Shape4 | None:
    """TFLite's broadcast: each dimension pair equal or one of them 1; None if they do not fit."""
    if any(da != db and 1 not in (da, db) for da, db in zip(astuple(a), astuple(b), strict=True)):
        return None
    return Shape4(*(db if da == 1 else da for da, db in zip(astuple(a), astuple(b), strict=True)))


def broadcast_strides(shape: Shape4) -> tuple[int, int, int, int]:
    """Element strides along n, h, w, c; a dimension of size 1 gets 0, which broadcasts it."""
    dense = (shape.h * shape.w * shape.c, shape.w * shape.c, shape.c, 1)
    return tuple(0 if dim == 1 else step for dim, step in zip(astuple(shape), dense, strict=True))


@dataclass(frozen=True)
class BinaryOperands:
    in1: Tensor
    in2: Tensor
    out: Tensor
    shape1: Shape4
    shape2: Shape4
    out_shape: Shape4
    act_min: int
    act_max: int

    def layout(self) -> dict:
        """The kernels' shape parameters: the output shape and each input's broadcast strides."""
        return {
            "output": self.out_shape,
            "input1_strides": broadcast_strides(self.shape1),
            "input2_strides": broadcast_strides(self.shape2),
        }


def binary_operands(op: Operator, graph: Graph) -> BinaryOperands:
    """Two int8 inputs that broadcast to the int8 output, and the fused activation's range."""
    if len(op.inputs) != 2:
        raise op_error(op, f"takes 2 inputs, the model gives {len(op.inputs)}")
    in1, in2 = graph.operator_inputs(op)
    (out,) = graph.operator_outputs(op)
    for role, tensor in (("input 1", in1), ("input 2", in2), ("output", out)):
        require_int8_activation(op, tensor, role)
    shape1, shape2, out_shape = shape4(op, in1), shape4(op, in2), shape4(op, out)
    expected = broadcast_shape(shape1, shape2)
    if expected is None:
        raise op_error(
            op, f"input shapes {list(in1.shape)} and {list(in2.shape)} cannot be broadcast "
            "(aligned from the last dimension, each pair must be equal or contain a 1)"
        )
    if expected != out_shape:
        raise op_error(
            op, f"output shape {list(out.shape)} is not the broadcast of {list(in1.shape)} and {list(in2.shape)}"
        )
    activation = op.options.fusedActivationFunction if op.options is not None else ACT_NONE
    act_min, act_max = activation_range(require_activation(op, activation), scale_of(out), zero_point_of(out))
    return BinaryOperands(in1, in2, out, shape1, shape2, out_shape, act_min, act_max)
