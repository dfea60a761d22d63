"""Whole models: the generated C on the host equals LiteRT's reference kernels byte for byte.

Judged on the shared ESC-10 Yamnet-256 (skipped when ../shared is absent) and on the
project's default model, over 512 distinct inputs: edge cases, random int8 and quantized
synthetic log-mel patches; every intermediate int8 tensor is compared on a subset.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.audio.patches import structured_int8_inputs
from harness.build.host_engine import HostEngine
from harness.compiler import compile_file
from harness.parity.golden import GoldenModel

INPUT_COUNT = 512
LAYER_CHECK_COUNT = 24


@pytest.fixture(scope="module", params=["shared", "default"])
def model_path(request):
    fixture = "shared_model_path" if request.param == "shared" else "default_model_path"
    return request.getfixturevalue(fixture)


@pytest.fixture(scope="module")
def compiled(model_path):
    return compile_file(model_path)


@pytest.fixture(scope="module")
def engine(compiled):
    return HostEngine.build(compiled)


@pytest.fixture(scope="module")
def inputs(compiled):
    graph = compiled.graph
    tensor = graph.tensor(graph.inputs[0])
    scale, zero_point = float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    return structured_int8_inputs(tensor.shape, INPUT_COUNT, seed=2024, scale=scale, zero_point=zero_point)


def test_inputs_are_distinct(inputs):
    assert len({x.tobytes() for x in inputs}) == INPUT_COUNT


def test_outputs_equal_the_reference_byte_for_byte(engine, inputs, model_path):
    outputs, _ = engine.run(inputs)
    golden = GoldenModel(model_path).run(inputs)
    assert outputs.dtype == golden.dtype == np.float32
    mismatched = [i for i in range(INPUT_COUNT) if outputs[i].tobytes() != golden[i].tobytes()]
    assert mismatched == [], f"{len(mismatched)} of {INPUT_COUNT} outputs differ, first input {mismatched[:1]}"
    # The outputs must carry information: a constant model would pass trivially. A trained
    # classifier's int8 softmax is mostly one-hot (the default model's is), so few distinct
    # vectors are expected; every layer before it is compared in the next test.
    assert len({o.tobytes() for o in outputs}) >= 8
    assert len(set(outputs.reshape(INPUT_COUNT, -1).argmax(axis=1))) >= 2


def test_every_layer_output_equals_the_reference(engine, compiled, inputs, model_path):
    """Includes the int8 softmax output before DEQUANTIZE and every activation before it."""
    sample = inputs[:: INPUT_COUNT // LAYER_CHECK_COUNT][:LAYER_CHECK_COUNT]
    _, layers = engine.run(sample, layers=True)
    golden = GoldenModel(model_path, keep_intermediates=True)
    for i, x in enumerate(sample):
        golden.invoke(x)
        for call, produced in zip(compiled.calls, layers):
            expected = golden.tensor(call.outputs[0])
            assert produced[i].tobytes() == expected.tobytes(), (
                f"input {i}: layer {call.op.index} ({call.op.kind}) differs from the reference"
            )


def test_plan_keeps_live_tensors_apart(compiled):
    """Every activation has its own place in the arena, but those a stream keeps only in bands."""
    assert compiled.plan.conflicts() == []
    graph = compiled.graph
    planned = {p.buffer.tensor for p in compiled.plan.placements}
    activations = {t for call in compiled.calls for t in call.inputs + call.outputs if not graph.tensor(t).is_constant}
    banded = {call.outputs[0] for stream in compiled.streams for call in stream.calls[:-1]}
    assert activations - banded == planned - {None}
    assert not banded & planned


def test_generated_code_is_deterministic(model_path, compiled):
    assert compile_file(model_path).files == compiled.files
