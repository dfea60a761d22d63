"""SUB against the reference kernels: TFLite runs int8 SUB through its ADD kernels with input 2's
multiplier negated, whose rounding differs from negating the rescaled value; broadcasting with a
constant on either side, both operands live, every int8 pair, fused activations."""

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
ALL_INT8 = np.arange(-128, 128, dtype=np.int8)


@settings(max_examples=40, deadline=None)
@given(broadcast_shapes(), st.lists(st.tuples(log_scales, zero_points), min_size=3, max_size=3),
       st.sampled_from([NONE, RELU, RELU6]), st.integers(0, 1), st.integers(0, 2**32 - 1))
@example(((2, 3, 4), ()), [(-1.0, -128), (-1.0, 127), (-0.5, 0)], NONE, 0, 0)
def test_sub_with_constant_matches_reference(shapes, log_quants, activation, const_side, seed):
    quants = [(float(10.0**e), zp) for e, zp in log_quants]
    model = binary_with_constant("SUB", shapes, quants, activation, const_side, seed)
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed + 1), shapes[1 - const_side], 3))


@pytest.mark.parametrize("quants", [
    ((0.1, 0), (0.1, 0), (0.2, 0)),
    ((0.0371, -17), (0.0029, 101), (0.0413, -66)),
    ((1.5, 127), (0.75, -128), (0.09, 3)),
], ids=["round scales", "odd scales", "saturating"])
def test_every_int8_pair(quants):
    assert_bit_exact(every_int8_pair("SUB", quants), ALL_INT8[None, None])


def test_sub_of_two_activations():
    """x - mean(x): both operands in the arena, the second broadcast per channel."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 5, 6], "int8", 0.03, -7)
    axes = b.const([1, 2], "int32")
    mean = b.tensor([1, 1, 1, 6], "int8", 0.02, 3)
    b.op("MEAN", [x, axes], [mean], options("ReducerOptions", keepDims=True))
    y = b.tensor([1, 4, 5, 6], "int8", 0.04, 10)
    b.op("SUB", [x, mean], [y], options("SubOptions", fusedActivationFunction=RELU))
    assert_bit_exact(b.build([x], [y]), random_inputs(np.random.default_rng(5), (1, 4, 5, 6), 4))


def test_rejections_explain_themselves():
    model = binary_with_constant("SUB", ((2, 3), (2, 3)), [(0.1, 0)] * 3, activation=RELU_N1_TO_1)
    with pytest.raises(HilError, match="fused activation RELU_N1_TO_1 is not supported"):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
