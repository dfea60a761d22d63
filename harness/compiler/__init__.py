"""Ahead-of-time compiler: an int8 .tflite becomes C source that calls firmware_stub/kernels."""

from harness.compiler.compile import CompiledModel, compile_graph
from harness.compiler.graph import read_model


def compile_file(path, name: str | None = None) -> CompiledModel:
    return compile_graph(read_model(path), name)


__all__ = ["CompiledModel", "compile_file", "compile_graph", "read_model"]
