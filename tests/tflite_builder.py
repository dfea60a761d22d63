"""Write small .tflite models directly, for per-operator tests against the reference interpreter.

The TFLite converter cannot be told which zero points, scales or per-channel layouts to use;
writing the flatbuffer with the schema's object API can, so tests reach every corner of the
quantization parameters. Only tests use this.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

_TYPES = {
    "float32": schema.TensorType.FLOAT32,
    "int32": schema.TensorType.INT32,
    "int64": schema.TensorType.INT64,
    "int8": schema.TensorType.INT8,
    "int16": schema.TensorType.INT16,
    "uint8": schema.TensorType.UINT8,
}


class ModelBuilder:
    def __init__(self) -> None:
        self._tensors: list = []
        self._buffers: list = [schema.BufferT()]  # buffer 0 is the empty sentinel
        self._operators: list = []
        self._codes: list[int] = []

    def tensor(
        self,
        shape,
        dtype: str = "int8",
        scale=None,
        zero_point=None,
        axis: int = 0,
        data: np.ndarray | None = None,
        name: str | None = None,
    ) -> int:
        t = schema.TensorT()
        t.shape = np.asarray(shape, dtype=np.int32)
        t.type = _TYPES[dtype]
        t.name = (name or f"t{len(self._tensors)}").encode()
        t.buffer = 0
        if data is not None:
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(data, dtype=dtype).tobytes(), dtype=np.uint8)
            self._buffers.append(buffer)
            t.buffer = len(self._buffers) - 1
        if scale is not None:
            q = schema.QuantizationParametersT()
            q.scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
            zp = np.zeros(q.scale.size, dtype=np.int64) if zero_point is None else zero_point
            q.zeroPoint = np.atleast_1d(np.asarray(zp, dtype=np.int64))
            q.quantizedDimension = axis
            t.quantization = q
        self._tensors.append(t)
        return len(self._tensors) - 1

    def const(self, values, dtype: str = "int32", **quant) -> int:
        values = np.asarray(values, dtype=dtype)
        return self.tensor(values.shape, dtype, data=values, **quant)

    def op(self, kind: str, inputs, outputs, options=None) -> None:
        code = getattr(schema.BuiltinOperator, kind)
        if code not in self._codes:
            self._codes.append(code)
        o = schema.OperatorT()
        o.opcodeIndex = self._codes.index(code)
        o.inputs = np.asarray(inputs, dtype=np.int32)
        o.outputs = np.asarray(outputs, dtype=np.int32)
        if options is not None:
            o.builtinOptionsType = getattr(schema.BuiltinOptions, type(options).__name__[:-1])
            o.builtinOptions = options
        self._operators.append(o)

    def build(self, inputs, outputs) -> bytes:
        subgraph = schema.SubGraphT()
        subgraph.tensors = self._tensors
        subgraph.operators = self._operators
        subgraph.inputs = np.asarray(inputs, dtype=np.int32)
        subgraph.outputs = np.asarray(outputs, dtype=np.int32)
        model = schema.ModelT()
        model.version = 3
        model.description = b"hil test model"
        model.subgraphs = [subgraph]
        model.buffers = self._buffers
        model.operatorCodes = [operator_code(code) for code in self._codes]
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def operator_code(code: int):
    """The model's entry for builtin operator `code`, version 1."""
    entry = schema.OperatorCodeT()
    entry.builtinCode = code
    entry.deprecatedBuiltinCode = min(code, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
    entry.version = 1
    return entry


def options(kind: str, **fields):
    """A schema options object, e.g. options("Conv2DOptions", strideH=2, padding=schema.Padding.SAME)."""
    obj = getattr(schema, kind + "T")()
    for key, value in fields.items():
        if not hasattr(obj, key):
            raise AttributeError(f"{kind} has no field {key}")
        setattr(obj, key, value)
    return obj


def binary_with_constant(kind: str, shapes, quants, activation: int = 0, const_side: int = 1, seed: int = 0,
                         out_shape=None) -> bytes:
    """ADD/SUB/MUL of the model's input and a seeded random int8 constant (on either side);
    quants = ((scale, zero point) of input 1, of input 2, of the output)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    operands = []
    for side, (shape, quant) in enumerate(zip(shapes, quants)):
        if side == const_side:
            operands.append(b.const(rng.integers(-128, 128, shape), "int8", scale=quant[0], zero_point=quant[1]))
        else:
            operands.append(b.tensor(list(shape), "int8", *quant))
    out = b.tensor(list(out_shape or np.broadcast_shapes(*shapes)), "int8", *quants[2])
    b.op(kind, operands, [out], options(f"{kind.capitalize()}Options", fusedActivationFunction=activation))
    return b.build([operands[1 - const_side]], [out])


def every_int8_pair(kind: str, quants) -> bytes:
    """ADD/SUB/MUL of every pair of int8 values: the input [1, 256] holds one operand, a constant
    [256, 1] of all 256 values the other, broadcast to [256, 256]; feed it all 256 values."""
    b = ModelBuilder()
    x = b.tensor([1, 256], "int8", *quants[0])
    c = b.const(np.arange(-128, 128).reshape(256, 1), "int8", scale=quants[1][0], zero_point=quants[1][1])
    y = b.tensor([256, 256], "int8", *quants[2])
    b.op(kind, [x, c], [y], options(f"{kind.capitalize()}Options", fusedActivationFunction=0))
    return b.build([x], [y])
