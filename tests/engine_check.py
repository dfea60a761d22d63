"""Run a model through the generated C on the host and through the reference interpreter."""

from __future__ import annotations

import numpy as np

from harness.build.host_engine import HostEngine
from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.parity.golden import GoldenModel


def random_inputs(rng: np.random.Generator, shape, count: int, dtype: str = "int8") -> np.ndarray:
    if dtype == "float32":
        return rng.uniform(-4.0, 4.0, (count, *shape)).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, (count, *shape), endpoint=True).astype(dtype)


def assert_bit_exact(model: bytes, inputs: np.ndarray, name: str = "op_under_test") -> np.ndarray:
    """Compile `model`, run `inputs` natively, and demand the reference's bytes exactly."""
    compiled = compile_graph(parse_model(model, f"{name}.tflite"), name)
    assert not compiled.plan.conflicts()
    outputs, _ = HostEngine.build(compiled).run(inputs)
    golden = GoldenModel(model).run(inputs)
    assert outputs.dtype == golden.dtype and outputs.shape == golden.shape
    if outputs.tobytes() != golden.tobytes():
        diff = outputs.astype(np.float64) - golden.astype(np.float64)
        where = np.argwhere(diff != 0)
        raise AssertionError(
            f"{len(where)} of {diff.size} output values differ from the reference "
            f"(max |diff| {np.abs(diff).max()}); first at {where[0].tolist()}: "
            f"engine {outputs[tuple(where[0])]} vs reference {golden[tuple(where[0])]}"
        )
    return outputs
