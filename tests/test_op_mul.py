"""MUL against the reference kernels: broadcasting over ranks 0 to 4 (a constant on either side, a
per-channel or scalar gate computed from the input as squeeze-and-excitation does), scales over
orders of magnitude (multipliers below and above 1), every zero point, fused activations."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_op_add import broadcast_shapes

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, binary_with_constant, every_int8_pair, options

NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3
log_scales = st.floats(-3, 1)
zero_points = st.integers(-128, 127)
activations = st.sampled_from([NONE, RELU, RELU6])


def mul_options(activation: int = NONE):
    return options("MulOptions", fusedActivationFunction=activation)


def const_mul_model(shapes, quants, activation=NONE, const_side=1, seed=0) -> bytes:
    return binary_with_constant("MUL", shapes, quants, activation, const_side, seed)


@settings(max_examples=40, deadline=None)
@given(broadcast_shapes(), st.lists(st.tuples(log_scales, zero_points), min_size=3, max_size=3), activations,
       st.integers(0, 1), st.integers(0, 2**32 - 1))
@example(((2, 3, 4), ()), [(-1.0, -128), (-2.0, 127), (-4.0, 0)], NONE, 1, 0)  # multiplier > 1
@example(((1, 2, 2, 8), (8,)), [(0.0, 5), (0.0, -3), (-3.0, -128)], RELU6, 1, 1)  # multiplier 1e3
@example(((2, 3, 4), (4,)), [(1.0, 0), (1.0, 0), (-2.3, 3)], NONE, 1, 2)  # 2e4: beyond the bounded path
def test_mul_with_constant_matches_reference(shapes, log_quants, activation, const_side, seed):
    quants = [(float(10.0**e), zp) for e, zp in log_quants]
    model = const_mul_model(shapes, quants, activation, const_side, seed)
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed + 1), shapes[1 - const_side], 3))


def gate_model(height: int, width: int, channels: int, quants, per_channel: bool, activation: int) -> bytes:
    """x * gate(x), the gate the mean of x over the map (per channel) or over everything (a scalar),
    as a squeeze-and-excitation block multiplies: both operands live in the arena."""
    (x_scale, x_zp), (g_scale, g_zp), (out_scale, out_zp) = quants
    b = ModelBuilder()
    x = b.tensor([1, height, width, channels], "int8", x_scale, x_zp)
    axes = b.const([1, 2] if per_channel else [1, 2, 3], "int32")
    gate = b.tensor([1, 1, 1, channels if per_channel else 1], "int8", g_scale, g_zp)
    b.op("MEAN", [x, axes], [gate], options("ReducerOptions", keepDims=True))
    out = b.tensor([1, height, width, channels], "int8", out_scale, out_zp)
    b.op("MUL", [x, gate], [out], mul_options(activation))
    return b.build([x], [out])


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 9),
       st.lists(st.tuples(st.floats(-2.5, 0), zero_points), min_size=3, max_size=3), st.booleans(), activations,
       st.integers(0, 2**32 - 1))
def test_mul_by_a_gate_from_the_input_matches_reference(height, width, channels, log_quants, per_channel,
                                                        activation, seed):
    quants = [(float(10.0**e), zp) for e, zp in log_quants]
    model = gate_model(height, width, channels, quants, per_channel, activation)
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed), (1, height, width, channels), 3))


ALL_INT8 = np.arange(-128, 128, dtype=np.int8)


@pytest.mark.parametrize("quants", [
    ((0.1, 0), (0.1, 0), (0.01, 0)),
    ((0.0371, -17), (0.0029, 101), (0.0413, -66)),
    ((1.5, 127), (0.75, -128), (0.09, 3)),
], ids=["round scales", "odd scales", "saturating"])
def test_every_int8_pair(quants):
    assert_bit_exact(every_int8_pair("MUL", quants), ALL_INT8[None, None])


def model_with(activation=NONE, shapes=((2, 3), (2, 3)), out_shape=None, in2_quant=(0.1, 0)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shapes[0]), "int8", 0.1, 0)
    c = b.const(np.ones(shapes[1]), "int8", **dict(zip(("scale", "zero_point", "axis"), in2_quant)))
    y = b.tensor(list(out_shape or np.broadcast_shapes(*shapes)), "int8", 0.1, 0)
    b.op("MUL", [x, c], [y], mul_options(activation))
    return b.build([x], [y])


REJECTIONS = {
    "RELU_N1_TO_1": (model_with(activation=RELU_N1_TO_1), "fused activation RELU_N1_TO_1 is not supported"),
    "shapes that do not broadcast": (model_with(shapes=((2, 3), (4, 3)), out_shape=(4, 3)), "cannot be broadcast"),
    "per-channel operand": (model_with(in2_quant=([0.1, 0.2, 0.3], [0, 0, 0], 1)), "quantized per channel"),
    "rank 5": (model_with(shapes=((1, 1, 1, 2, 3), (3,))), "rank 5"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
