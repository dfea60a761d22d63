"""Whole models built with TensorFlow (tests/model_blocks.py) through the compiler: a ResNet-style
audio model (PAD, valid convolutions, residual ADDs), a MobileNetV3-style block with squeeze-
and-excitation (MEAN, MUL, HARD_SWISH, LOGISTIC) and an inception-style block (CONCATENATION of
three branches, STRIDED_SLICE, SUB), bit-exact on the host and on qemu-m33; and the planner
keeping each branch's buffers alive until the branches join, layer by layer."""

import numpy as np
import pytest
from emulator_check import assert_bit_exact_on_emulator, needs_emulator
from model_blocks import (
    BRANCHES_INPUT,
    MOBILENET_INPUT,
    RESNET_INPUT,
    branches_model,
    mobilenet_v3_block_model,
    resnet_model,
)

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model

from engine_check import assert_bit_exact, assert_layers_match_reference, random_inputs

MODELS = {
    "resnet": (resnet_model, RESNET_INPUT),
    "mobilenet_v3_block": (mobilenet_v3_block_model, MOBILENET_INPUT),
    "branches": (branches_model, BRANCHES_INPUT),
}
EXPECTED_OPERATORS = {
    "resnet": {"PAD", "CONV_2D", "MAX_POOL_2D", "ADD", "MEAN", "FULLY_CONNECTED", "SOFTMAX"},
    "mobilenet_v3_block": {"HARD_SWISH", "DEPTHWISE_CONV_2D", "MEAN", "LOGISTIC", "MUL", "ADD"},
    "branches": {"CONCATENATION", "SUB", "STRIDED_SLICE", "AVERAGE_POOL_2D"},
}


@pytest.fixture(scope="module", params=list(MODELS))
def block(request):
    build, shape = MODELS[request.param]
    return request.param, build(), (1, *shape)


def inputs_for(shape, count: int, seed: int = 0) -> np.ndarray:
    return random_inputs(np.random.default_rng(seed), shape, count)


def test_the_model_has_the_operators_it_is_meant_to_exercise(block):
    name, model, _ = block
    kinds = {op.kind for op in parse_model(model).operators}
    assert EXPECTED_OPERATORS[name] <= kinds


def test_bit_exact_on_the_host(block):
    name, model, shape = block
    assert_bit_exact(model, inputs_for(shape, 8), name)


@needs_emulator
def test_bit_exact_on_qemu_m33(block):
    name, model, shape = block
    assert_bit_exact_on_emulator(model, inputs_for(shape, 4, seed=1), name)


def test_every_intermediate_matches_the_reference(block):
    """A buffer reused too early would corrupt a branch that is still waiting to join; every
    layer's output equal to the reference's rules that out on real inputs."""
    name, model, shape = block
    assert_layers_match_reference(model, inputs_for(shape, 2, seed=2), name)


def test_branch_buffers_live_until_their_last_reader(block):
    name, model, _ = block
    compiled = compile_graph(parse_model(model, f"{name}.tflite"), name)
    placements = {p.buffer.tensor: p for p in compiled.plan.placements if p.buffer.tensor is not None}
    producer = {index: layer for layer, call in enumerate(compiled.calls) for index in call.outputs}
    assert not compiled.plan.conflicts()
    joins = 0
    for layer, call in enumerate(compiled.calls):
        for index in call.inputs:
            if index in placements:
                buffer = placements[index].buffer
                assert buffer.first <= layer <= buffer.last, f"tensor {index} read at layer {layer}, outside its life"
        # A join: an input made layers earlier (a skip or a finished branch) must keep its bytes
        # while every layer in between writes its own output.
        waiting = [index for index in call.inputs if producer.get(index, layer) < layer - 1]
        if len([i for i in call.inputs if i in producer]) >= 2 and waiting:
            joins += 1
            for index in waiting:
                kept = placements[index]
                between = [placements[t] for c in compiled.calls[producer[index] + 1:layer] for t in c.outputs]
                assert all(kept.end <= p.offset or p.end <= kept.offset for p in between), (
                    f"tensor {index}, read at layer {layer}, shares bytes with a tensor written before then")
    assert joins >= 1
