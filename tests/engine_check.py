"""Run a model through the generated C on the host and through the reference interpreter.

The kernels are built twice: with their DSP paths (the host engine's default: the Cortex-M33's
DSP instructions written in C, kernels/hil_dsp.h) and with their portable paths (what a target
without the DSP extension runs). Both must give the reference's bytes.
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from harness.build import host_engine
from harness.build.host_engine import HostEngine
from harness.build.sources import PORTABLE_KERNEL_CFLAGS
from harness.compiler import CompiledModel
from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.parity.golden import GoldenModel

KERNEL_PATHS = ("dsp", "portable")


def random_inputs(rng: np.random.Generator, shape, count: int, dtype: str = "int8") -> np.ndarray:
    if dtype == "float32":
        return rng.uniform(-4.0, 4.0, (count, *shape)).astype(np.float32)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, (count, *shape), endpoint=True).astype(dtype)


def host_engine_for(compiled: CompiledModel, kernel_path: str = "dsp") -> HostEngine:
    """The host engine with the kernels' DSP paths (the default build) or their portable paths."""
    if kernel_path == "dsp":
        return HostEngine.build(compiled)
    if kernel_path != "portable":
        raise ValueError(f"kernel path {kernel_path!r} is not one of {KERNEL_PATHS}")
    # The host engine takes its flags from one module constant; swap it for this one build.
    with mock.patch.object(host_engine, "HOST_ENGINE_CFLAGS", PORTABLE_KERNEL_CFLAGS):
        return HostEngine.build(compiled)


def assert_bit_exact(model: bytes, inputs: np.ndarray, name: str = "op_under_test") -> np.ndarray:
    """Compile `model`, run `inputs` natively through both kernel paths, and demand the reference's
    bytes exactly from each."""
    compiled = compile_graph(parse_model(model, f"{name}.tflite"), name)
    assert not compiled.plan.conflicts()
    golden = GoldenModel(model).run(inputs)
    for kernel_path in KERNEL_PATHS:
        outputs, _ = host_engine_for(compiled, kernel_path).run(inputs)
        assert outputs.dtype == golden.dtype and outputs.shape == golden.shape
        if outputs.tobytes() != golden.tobytes():
            diff = outputs.astype(np.float64) - golden.astype(np.float64)
            where = np.argwhere(diff != 0)
            raise AssertionError(
                f"{kernel_path} kernels: {len(where)} of {diff.size} output values differ from the reference "
                f"(max |diff| {np.abs(diff).max()}); first at {where[0].tolist()}: "
                f"engine {outputs[tuple(where[0])]} vs reference {golden[tuple(where[0])]}"
            )
    return outputs


def assert_layers_match_reference(model: bytes, inputs: np.ndarray, name: str = "op_under_test") -> None:
    """Every layer's output on the host engine equal to the reference interpreter's tensor: a buffer
    the planner let another tensor overwrite too early would show here, even if the output hid it."""
    compiled = compile_graph(parse_model(model, f"{name}.tflite"), name)
    _, layers = HostEngine.build(compiled).run(inputs, layers=True)
    expected = reference_layers(model, inputs, compiled.calls)
    for layer, call in enumerate(compiled.calls):
        produced = [layers[layer][record].tobytes() for record in range(len(inputs))]
        assert produced == expected[layer], f"layer {layer} ({call.op.kind})"


def reference_layers(model: bytes, inputs: np.ndarray, calls) -> list[list[bytes]]:
    """Per layer, per input, the bytes of the layer's output tensor in the reference interpreter."""
    golden = GoldenModel(model, keep_intermediates=True)
    per_layer = [[] for _ in calls]
    for x in inputs:
        golden.invoke(x)
        for layer, call in enumerate(calls):
            per_layer[layer].append(golden.tensor(call.outputs[0]).tobytes())
    return per_layer
