"""Give an int8 .tflite float32 input and output, as the TFLite converter does when it is not told
`inference_input_type = tf.int8`: a QUANTIZE from a new float32 input tensor at the start, and a
DEQUANTIZE into a new float32 output tensor at the end (when the output is not float already).
Only tests use this: it makes Yamnet-256-shaped float-IO models without TensorFlow.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from tflite_model_edit import edited

from tflite_builder import operator_code


def _opcode_index(model, kind: int) -> int:
    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == kind:
            return index
    model.operatorCodes.append(operator_code(kind))
    return len(model.operatorCodes) - 1


def _float_twin(model, subgraph, index: int, name: bytes) -> int:
    """A new float32 tensor of the same shape as tensor `index`, with an empty buffer of its own."""
    tensor = schema.TensorT()
    tensor.shape = np.array(subgraph.tensors[index].shape, dtype=np.int32)
    tensor.type = schema.TensorType.FLOAT32
    tensor.name = name
    model.buffers.append(schema.BufferT())
    tensor.buffer = len(model.buffers) - 1
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _operator(model, kind: int, source: int, destination: int):
    op = schema.OperatorT()
    op.opcodeIndex = _opcode_index(model, kind)
    op.inputs = np.array([source], dtype=np.int32)
    op.outputs = np.array([destination], dtype=np.int32)
    return op


def with_float_io(content: bytes) -> bytes:
    """The same int8 model behind a float32 input (QUANTIZE) and a float32 output (DEQUANTIZE)."""
    return edited(content, _add_float_io)


def _add_float_io(model) -> None:
    subgraph = model.subgraphs[0]
    int8_input = int(subgraph.inputs[0])
    if subgraph.tensors[int8_input].type != schema.TensorType.INT8:
        raise ValueError("the model's input is not int8")
    float_input = _float_twin(model, subgraph, int8_input, b"serving_input_float32")
    subgraph.operators.insert(0, _operator(model, schema.BuiltinOperator.QUANTIZE, float_input, int8_input))
    subgraph.inputs = np.array([float_input], dtype=np.int32)
    int8_output = int(subgraph.outputs[0])
    if subgraph.tensors[int8_output].type == schema.TensorType.INT8:
        float_output = _float_twin(model, subgraph, int8_output, b"serving_output_float32")
        subgraph.operators.append(_operator(model, schema.BuiltinOperator.DEQUANTIZE, int8_output, float_output))
        subgraph.outputs = np.array([float_output], dtype=np.int32)
