"""Read a .tflite file into a small, validated graph the compiler works on.

The flatbuffer is decoded with the TFLite schema bindings that ship with LiteRT (the same
package that runs the golden reference), so the reader and the golden always agree on the
format. Everything after this module sees plain Python objects and numpy arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.errors import HilError

_TENSOR_TYPES = {
    schema.TensorType.FLOAT32: "float32",
    schema.TensorType.FLOAT16: "float16",
    schema.TensorType.INT32: "int32",
    schema.TensorType.UINT8: "uint8",
    schema.TensorType.INT64: "int64",
    schema.TensorType.BOOL: "bool",
    schema.TensorType.INT16: "int16",
    schema.TensorType.INT8: "int8",
}
_OPERATOR_NAMES = {
    code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}
_FILE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or along `axis`."""

    scale: np.ndarray  # float32, one value or one per channel
    zero_point: np.ndarray  # int64, same length as scale
    axis: int

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quantization | None
    data: np.ndarray | None  # set for constants (weights, biases, shape operands)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    def describe(self) -> str:
        return f"tensor {self.index} '{self.name}' {self.dtype}{list(self.shape)}"


@dataclass
class Operator:
    index: int
    kind: str  # BuiltinOperator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]  # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's *OptionsT object, or None


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    sha256: str
    source_name: str

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def operator_inputs(self, op: Operator) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def operator_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]


def read_model(path: str | Path) -> Graph:
    """Parse and validate a .tflite file; raise HilError naming the problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HilError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HilError(f"{path}: is a directory, expected a .tflite file") from None
    except OSError as exc:
        raise HilError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_model(data, path.name, label=str(path))


def parse_model(data: bytes, source_name: str = "model.tflite", label: str | None = None) -> Graph:
    """Decode a .tflite; `source_name` goes into generated code, `label` into error messages."""
    label = label or source_name
    if len(data) < 8 or data[4:8] != _FILE_IDENTIFIER:
        raise HilError(
            f"{label}: not a TFLite model (the file has no 'TFL3' identifier); "
            "give a .tflite file written by the TFLite converter"
        )
    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        graph = _graph_from_model(model, data, label)
    except HilError:
        raise
    except Exception as exc:  # a damaged flatbuffer raises whatever the decoder trips on
        raise HilError(
            f"{label}: the TFLite flatbuffer is damaged or truncated "
            f"({type(exc).__name__}: {exc}); re-export the model"
        ) from None
    graph.sha256 = hashlib.sha256(data).hexdigest()
    graph.source_name = source_name
    return graph


def _graph_from_model(model: Any, data: bytes, source_name: str) -> Graph:
    if not model.subgraphs:
        raise HilError(f"{source_name}: the model has no subgraph")
    if len(model.subgraphs) > 1:
        raise HilError(
            f"{source_name}: the model has {len(model.subgraphs)} subgraphs; only single-subgraph "
            "models (no control flow, no signatures with separate graphs) are supported"
        )
    subgraph = model.subgraphs[0]
    buffers = [_buffer_bytes(b, data, source_name) for b in model.buffers or []]
    tensors = [_tensor(i, t, buffers, source_name) for i, t in enumerate(subgraph.tensors or [])]
    operators = [
        _operator(i, op, model.operatorCodes, len(tensors), source_name)
        for i, op in enumerate(subgraph.operators or [])
    ]
    inputs = tuple(int(i) for i in _as_list(subgraph.inputs))
    outputs = tuple(int(i) for i in _as_list(subgraph.outputs))
    for index in inputs + outputs:
        if not 0 <= index < len(tensors):
            raise HilError(f"{source_name}: graph input/output refers to missing tensor {index}")
    return Graph(tensors, operators, inputs, outputs, sha256="", source_name=source_name)


def _as_list(values: Any) -> list[int]:
    return [] if values is None else [int(v) for v in values]


def _buffer_bytes(buffer: Any, data: bytes, source_name: str) -> bytes | None:
    # Large models keep tensor data after the flatbuffer, addressed by offset and size.
    if getattr(buffer, "offset", 0) and buffer.offset > 1:
        end = buffer.offset + buffer.size
        if end > len(data):
            raise HilError(f"{source_name}: a weight buffer lies past the end of the file (truncated?)")
        return data[buffer.offset:end]
    if buffer.data is None or len(buffer.data) == 0:
        return None
    return np.asarray(buffer.data, dtype=np.uint8).tobytes()


def _tensor(index: int, t: Any, buffers: list[bytes | None], source_name: str) -> Tensor:
    name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or "")
    dtype = _TENSOR_TYPES.get(t.type)
    if dtype is None:
        raise HilError(
            f"{source_name}: tensor {index} '{name}' has element type {t.type}, which the "
            f"compiler does not read (supported: {', '.join(sorted(set(_TENSOR_TYPES.values())))})"
        )
    shape = tuple(int(d) for d in _as_list(t.shape))
    if any(d < 0 for d in shape):
        raise HilError(f"{source_name}: tensor {index} '{name}' has a dynamic shape {list(shape)}")
    if t.buffer is not None and not 0 <= t.buffer < max(len(buffers), 1):
        raise HilError(f"{source_name}: tensor {index} '{name}' refers to missing buffer {t.buffer}")
    raw = buffers[t.buffer] if buffers and t.buffer else None
    values = None
    if raw is not None:
        values = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
        expected = int(np.prod(shape, dtype=np.int64))
        if values.size != expected:
            raise HilError(
                f"{source_name}: tensor {index} '{name}' holds {values.size} values for shape "
                f"{list(shape)} ({expected} expected); the file is damaged"
            )
        values = values.reshape(shape).astype(dtype)
    return Tensor(index, name, shape, dtype, _quantization(t.quantization), values)


def _quantization(q: Any) -> Quantization | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scale = np.asarray(q.scale, dtype=np.float32)
    zero_point = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0] * scale.size, dtype=np.int64)
    return Quantization(scale, zero_point, int(q.quantizedDimension or 0))


def _operator(index: int, op: Any, codes: list[Any], tensor_count: int, source_name: str) -> Operator:
    if op.opcodeIndex >= len(codes or []):
        raise HilError(f"{source_name}: operator {index} refers to missing operator code {op.opcodeIndex}")
    code = codes[op.opcodeIndex]
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
        kind = f"CUSTOM({custom})"
    else:
        kind = _OPERATOR_NAMES.get(builtin, f"BUILTIN_{builtin}")
    inputs = tuple(_as_list(op.inputs))
    outputs = tuple(_as_list(op.outputs))
    for t in inputs + outputs:
        if t >= tensor_count or t < -1:
            raise HilError(f"{source_name}: operator {index} ({kind}) refers to missing tensor {t}")
    return Operator(index, kind, inputs, outputs, op.builtinOptions)
