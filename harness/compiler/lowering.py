"""How one TFLite operator becomes one kernel call: the shared vocabulary of the op modules.

An op module registers a function `lower(op, graph) -> KernelCall` for its operator name.
The call names the C kernel, its parameter struct (plain values and constant arrays) and
the tensors it reads and writes; codegen turns that into C and the planner places the tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

from harness.compiler.graph import Graph, Operator, Tensor
from harness.compiler.quant import (
    ACTIVATION_NAMES,
    INT8_MAX,
    INT8_MIN,
    SUPPORTED_ACTIVATIONS,
)
from harness.errors import HilError

C_TYPES = {"int8": "int8_t", "int32": "int32_t", "float32": "float", "int16": "int16_t"}


@dataclass(frozen=True, eq=False)  # compared by identity: array equality is ambiguous
class ConstArray:
    """A constant array the kernel reads from flash (weights, biases, multipliers)."""

    role: str  # short name, becomes part of the C symbol: "filter", "bias", "multiplier"
    ctype: str
    values: np.ndarray


@dataclass(frozen=True)
class Shape4:
    n: int
    h: int
    w: int
    c: int


@dataclass(frozen=True)
class CExpr:
    """A C expression written as-is into a parameter struct (an enum name, a cast, a macro)."""

    text: str


ParamValue = Union[int, float, bool, Shape4, ConstArray, CExpr, tuple, None]


@dataclass
class KernelCall:
    op: Operator
    function: str  # C function, called as function(&params, inputs..., outputs...[, scratch])
    params_type: str  # the C struct type of its first argument
    params: dict[str, ParamValue]
    inputs: list[int]  # tensor indices; constants among them are emitted as arrays
    outputs: list[int]
    scratch_bytes: int = 0
    macs: int = 0
    # Where the kernel may write its output over its (single activation) input (the kernel's
    # header says why that is safe); None: never.
    in_place: InPlaceRule | None = None
    # For a kernel that can run on a band of output rows (a stream, harness.compiler.stream): its
    # scratch for a call writing that many rows; scratch_bytes is the same rule at output.h. None: it
    # runs on whole layers only.
    band_scratch: Callable[[KernelCall, int], int] | None = None


@dataclass(frozen=True)
class InPlaceRule:
    """The input may start `tail` bytes after the output (tail < 0: before it) for every tail that
    is a multiple of `step` and at least `min_tail` (None: no lower bound)."""

    min_tail: int | None
    step: int = 1

    def allows(self, tail: int) -> bool:
        return tail % self.step == 0 and (self.min_tail is None or tail >= self.min_tail)


Lowering = Callable[[Operator, Graph], KernelCall]
LOWERINGS: dict[str, Lowering] = {}


def lowering(kind: str) -> Callable[[Lowering], Lowering]:
    def register(fn: Lowering) -> Lowering:
        LOWERINGS[kind] = fn
        return fn

    return register


def op_error(op: Operator, message: str) -> HilError:
    return HilError(f"operator {op.index} ({op.kind}): {message}")


def operands(op: Operator, graph: Graph, inputs: tuple[int, ...], what: str) -> tuple[list, Tensor]:
    """The operator's input tensors (one of the allowed counts) and its single output."""
    ins, outs = graph.operator_inputs(op), graph.operator_outputs(op)
    if len(ins) not in inputs or len(outs) != 1:
        counts = " or ".join(map(str, inputs))
        raise op_error(op, f"expected {counts} inputs ({what}) and 1 output, got {len(ins)} and {len(outs)}")
    return ins, outs[0]


def require_dtype(op: Operator, tensor: Tensor | None, dtype: str, role: str) -> Tensor:
    if tensor is None:
        raise op_error(op, f"the {role} tensor is missing")
    if tensor.dtype != dtype:
        raise op_error(op, f"{role} {tensor.describe()} must be {dtype}")
    return tensor


def require_quantized(op: Operator, tensor: Tensor, role: str, per_tensor: bool = True) -> Tensor:
    """Quantization parameters present; for a per-tensor role, one sane scale and zero point."""
    if tensor.quant is None:
        raise op_error(op, f"{role} {tensor.describe()} has no quantization parameters")
    if not per_tensor:
        return tensor
    if tensor.quant.per_channel:
        raise op_error(
            op,
            f"{role} {tensor.describe()} is quantized per channel ({tensor.quant.scale.size} scales along "
            f"axis {tensor.quant.axis}); {op.kind} takes it quantized per tensor (one scale, one zero point)",
        )
    scale, zero_point = scale_of(tensor), zero_point_of(tensor)
    if not (math.isfinite(scale) and scale > 0.0):
        raise op_error(op, f"{role} {tensor.describe()} has scale {scale}; it must be positive and finite")
    if not INT8_MIN <= zero_point <= INT8_MAX:
        raise op_error(op, f"{role} {tensor.describe()} has zero point {zero_point}, outside [-128, 127]")
    return tensor


def require_int8_activation(op: Operator, tensor: Tensor | None, role: str) -> Tensor:
    """An int8 tensor quantized per tensor, the only kind of activation the kernels take."""
    return require_quantized(op, require_dtype(op, tensor, "int8", role), role)


def require_int8_activations(op: Operator, inp: Tensor | None, out: Tensor) -> None:
    require_int8_activation(op, inp, "input")
    require_int8_activation(op, out, "output")


def scale_of(tensor: Tensor) -> float:
    return float(tensor.quant.scale[0])


def zero_point_of(tensor: Tensor) -> int:
    return int(tensor.quant.zero_point[0])


def require_activation(op: Operator, activation: int) -> int:
    if activation not in SUPPORTED_ACTIVATIONS:
        name = ACTIVATION_NAMES.get(activation, str(activation))
        supported = ", ".join(ACTIVATION_NAMES[a] for a in SUPPORTED_ACTIVATIONS)
        raise op_error(op, f"fused activation {name} is not supported (supported: {supported})")
    return activation


def shape4(op: Operator, tensor: Tensor) -> Shape4:
    """NHWC view of a tensor of rank 4 or less (missing leading dimensions are 1)."""
    if len(tensor.shape) > 4:
        raise op_error(op, f"{tensor.describe()} has rank {len(tensor.shape)}; at most 4 is supported")
    dims = (1,) * (4 - len(tensor.shape)) + tuple(tensor.shape)
    return Shape4(*dims)
