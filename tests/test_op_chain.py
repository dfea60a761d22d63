"""A small float-in, float-out graph: QUANTIZE (float32 -> int8), ADD with a constant broadcast
operand, QUANTIZE (int8 -> int8), DEQUANTIZE. The ops must compose, every intermediate tensor must
match the reference, and the arena planner must reuse memory without overlapping live tensors."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model

from engine_check import assert_bit_exact, assert_layers_match_reference
from tflite_builder import ModelBuilder, options

RELU6 = 3
quants = st.tuples(st.floats(-3, 0).map(lambda e: float(10.0**e)), st.integers(-128, 127))


def chain_model(shape, q_in, q_bias, q_sum, q_out, seed: int) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "float32", name="x")
    xq = b.tensor(list(shape), "int8", *q_in, name="x_int8")
    b.op("QUANTIZE", [x], [xq])
    bias_values = np.random.default_rng(seed).integers(-128, 128, shape[-1])
    bias = b.const(bias_values, "int8", scale=q_bias[0], zero_point=q_bias[1])
    total = b.tensor(list(shape), "int8", *q_sum, name="sum")
    b.op("ADD", [xq, bias], [total], options("AddOptions", fusedActivationFunction=RELU6))
    requantized = b.tensor(list(shape), "int8", *q_out, name="requantized")
    b.op("QUANTIZE", [total], [requantized])
    y = b.tensor(list(shape), "float32", name="y")
    b.op("DEQUANTIZE", [requantized], [y])
    return b.build([x], [y])


@settings(max_examples=12, deadline=None)
@given(st.tuples(st.integers(1, 2), st.integers(1, 6), st.integers(1, 6), st.integers(1, 8)),
       quants, quants, quants, quants, st.integers(0, 2**32 - 1))
def test_chain_matches_reference_layer_by_layer(shape, q_in, q_bias, q_sum, q_out, seed):
    model = chain_model(shape, q_in, q_bias, q_sum, q_out, seed)
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(-200.0 * q_in[0], 200.0 * q_in[0], (3, *shape)).astype(np.float32)
    assert_bit_exact(model, inputs)
    assert_layers_match_reference(model, inputs, "chain")


def test_chain_plan_reuses_the_arena():
    shape = (1, 4, 4, 8)
    model = chain_model(shape, (0.05, -3), (0.02, 10), (0.1, -128), (0.03, 5), seed=1)
    compiled = compile_graph(parse_model(model, "chain.tflite"), "chain")
    assert [call.function for call in compiled.calls] == [
        "hil_quantize_f32_s8", "hil_add_s8", "hil_requantize_s8", "hil_dequantize_s8_f32"]
    assert not compiled.plan.conflicts()
    buffers = {p.buffer.name: p for p in compiled.plan.placements}
    assert set(buffers) == {"x", "x_int8", "sum", "requantized", "y"}  # the bias stays in flash
    # The float input is dead after layer 0 and the float output is born at layer 3: they may share.
    assert compiled.plan.arena_size < sum(p.buffer.size for p in buffers.values())
    assert compiled.weights_bytes == shape[-1]
