"""ADD against the reference kernels: broadcasting over ranks 0 to 4 (constant operand on either
side, or two activations that both broadcast), equal shapes (TFLite's non-broadcast path),
scales over orders of magnitude, every zero point, fused activations; plus the rejections."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, binary_with_constant, options

NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3

log_scales = st.floats(-3, 1)
zero_points = st.integers(-128, 127)
activations = st.sampled_from([NONE, RELU, RELU6])


def add_options(activation: int = NONE):
    return options("AddOptions", fusedActivationFunction=activation)


def const_add_model(shapes, quants, activation=NONE, const_side=1, out_shape=None, seed=0) -> bytes:
    """input (variable) + constant, or constant + input; quants = (input1, input2, output)."""
    return binary_with_constant("ADD", shapes, quants, activation, const_side, seed, out_shape)


@st.composite
def broadcast_shapes(draw):
    """An output shape and two input shapes that broadcast to it (ranks may be lower)."""
    out = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    if draw(st.integers(0, 3)) == 0:  # TFLite's non-broadcast path: identical shapes
        return tuple(out), tuple(out)

    def operand():
        rank = draw(st.integers(0, len(out)))
        return tuple(d if draw(st.booleans()) else 1 for d in out[len(out) - rank:])

    return operand(), operand()


@st.composite
def const_add_cases(draw):
    shapes = draw(broadcast_shapes())
    quants = [(float(10.0 ** draw(log_scales)), draw(zero_points)) for _ in range(3)]
    if draw(st.integers(0, 4)) == 0:  # equal input scales: both multipliers exactly 0.5
        quants[1] = (quants[0][0], quants[1][1])
    const_side = draw(st.integers(0, 1))
    seed = draw(st.integers(0, 2**32 - 1))
    model = const_add_model(shapes, quants, draw(activations), const_side, seed=seed)
    inputs = random_inputs(np.random.default_rng(seed + 1), shapes[1 - const_side], 3)
    return model, inputs


@settings(max_examples=45, deadline=None)
@given(const_add_cases())
def test_add_with_constant_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


EDGE_CASES = {
    "scalar constant": dict(shapes=((2, 3, 4), ()), quants=((0.05, -3), (0.2, 7), (0.1, 0))),
    "scalar variable": dict(shapes=((), (2, 3, 4)), quants=((0.05, -3), (0.2, 7), (0.1, 0)), const_side=1,
                            out_shape=(2, 3, 4)),
    "extreme zero points": dict(shapes=((1, 2, 3, 4), (4,)), quants=((0.5, -128), (0.5, 127), (1.0, 127))),
    "scales 10^4 apart": dict(shapes=((3, 5), (3, 1)), quants=((1e-3, 10), (10.0, -20), (5.0, 0))),
    "tiny output scale, RELU6 clamps at 127": dict(shapes=((16,), (16,)), quants=((0.1, 0), (0.1, 0), (0.01, -128)),
                                                    activation=RELU6),
    "RELU with zero point 127": dict(shapes=((4, 4), (1, 4)), quants=((0.1, 0), (0.1, 0), (0.1, 127)),
                                     activation=RELU),
    "same shapes, different ranks (non-broadcast in TFLite)": dict(shapes=((1, 1, 1, 8), (8,)),
                                                                   quants=((0.03, 5), (0.07, -9), (0.1, 2)),
                                                                   out_shape=(1, 1, 1, 8)),
}


@pytest.mark.parametrize("case", EDGE_CASES, ids=list(EDGE_CASES))
def test_add_edge_cases(case):
    spec = dict(EDGE_CASES[case])
    const_side = spec.get("const_side", 1)
    model = const_add_model(**spec)
    variable_shape = spec["shapes"][1 - const_side]
    inputs = random_inputs(np.random.default_rng(7), variable_shape, 64)
    assert_bit_exact(model, inputs)


ALL_INT8 = np.arange(-128, 128, dtype=np.int8)


def pair_model(x_shape, constant: np.ndarray, out_shape, quants) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(x_shape), "int8", *quants[0])
    c = b.const(constant, "int8", scale=quants[1][0], zero_point=quants[1][1])
    y = b.tensor(list(out_shape), "int8", *quants[2])
    b.op("ADD", [x, c], [y], add_options())
    return b.build([x], [y])


@pytest.mark.parametrize("quants", [
    ((0.1, 0), (0.1, 0), (0.2, 0)),
    ((0.0371, -17), (0.0029, 101), (0.0413, -66)),
    ((1.5, 127), (0.75, -128), (0.09, 3)),
], ids=["round scales", "odd scales", "saturating"])
def test_every_int8_pair_rounds_alike_on_both_reference_paths(quants):
    """TFLite runs Add for equal shapes and BroadcastAdd*DSlow otherwise; feed both every pair of
    int8 values (the variable input holds one operand, the constant the other)."""
    pairs = 256 * 256
    elementwise = assert_bit_exact(
        pair_model([pairs], np.repeat(ALL_INT8, 256), [pairs], quants), np.tile(ALL_INT8, 256)[None])
    broadcast = assert_bit_exact(
        pair_model([1, 256], ALL_INT8.reshape(256, 1), [256, 256], quants), ALL_INT8[None, None])
    assert broadcast.tobytes() == elementwise.tobytes()


def two_activation_model(width: int, channels: int, quants, activation: int, broadcast: bool) -> bytes:
    """ADD(x, y) where y is x requantized (and, with `broadcast`, reshaped so both inputs broadcast):
    x[1,1,W,C] + y[1,W,1,C] -> [1,W,W,C]. Both operands live in the arena."""
    (in_scale, in_zp), (y_scale, y_zp), (out_scale, out_zp) = quants
    b = ModelBuilder()
    x = b.tensor([1, 1, width, channels], "int8", in_scale, in_zp)
    y = b.tensor([1, 1, width, channels], "int8", y_scale, y_zp)
    b.op("QUANTIZE", [x], [y])
    if broadcast:
        new_shape = [1, width, 1, channels]
        shape = b.const(new_shape, "int32")
        reshaped = b.tensor(new_shape, "int8", y_scale, y_zp)
        b.op("RESHAPE", [y, shape], [reshaped], options("ReshapeOptions", newShape=new_shape))
        y, out_shape = reshaped, [1, width, width, channels]
    else:
        out_shape = [1, 1, width, channels]
    out = b.tensor(out_shape, "int8", out_scale, out_zp)
    b.op("ADD", [x, y], [out], add_options(activation))
    return b.build([x], [out])


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.lists(st.tuples(log_scales, zero_points), min_size=3, max_size=3),
       activations, st.booleans(), st.integers(0, 2**32 - 1))
@example(4, 3, [(-1.0, -128), (-1.0, 127), (-0.7, 0)], NONE, True, 0)
def test_add_of_two_activations_matches_reference(width, channels, log_quants, activation, broadcast, seed):
    quants = [(float(10.0**e), zp) for e, zp in log_quants]
    model = two_activation_model(width, channels, quants, activation, broadcast)
    inputs = random_inputs(np.random.default_rng(seed), (1, 1, width, channels), 4)
    assert_bit_exact(model, inputs)


def test_only_broadcasting_takes_the_strided_kernel():
    same = compile_graph(parse_model(const_add_model(((2, 3), (2, 3)), [(0.1, 0)] * 3)), "same")
    broadcast = compile_graph(parse_model(const_add_model(((2, 3), (1, 3)), [(0.1, 0)] * 3)), "bcast")
    assert [c.function for c in same.calls] == ["hil_add_elementwise_s8"]
    assert [c.function for c in broadcast.calls] == ["hil_add_s8"]
    assert broadcast.calls[0].params["input2_strides"] == (0, 0, 0, 1)
    assert broadcast.calls[0].params["input1_strides"] == (0, 0, 3, 1)


def model_with(out_dtype="int8", in2_quant=(0.1, 0), out_quant=(0.1, 0), activation=NONE,
               shapes=((2, 3), (2, 3)), out_shape=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shapes[0]), "int8", 0.1, 0)
    c = b.const(np.ones(shapes[1]), "int8", **dict(zip(("scale", "zero_point", "axis"), in2_quant)))
    y = b.tensor(list(out_shape or np.broadcast_shapes(*shapes)), out_dtype, *out_quant)
    b.op("ADD", [x, c], [y], add_options(activation))
    return b.build([x], [y])


REJECTIONS = {
    "RELU_N1_TO_1": (model_with(activation=RELU_N1_TO_1), r"fused activation RELU_N1_TO_1 is not supported"),
    "per-channel operand": (model_with(in2_quant=([0.1, 0.2, 0.3], [0, 0, 0], 1)), "quantized per channel"),
    "int16 output": (model_with(out_dtype="int16"), "output .* must be int8"),
    "zero point outside int8": (model_with(in2_quant=(0.1, -129)), "zero point -129"),
    "shapes that do not broadcast": (
        model_with(shapes=((2, 3), (4, 3)), out_shape=(4, 3)), "cannot be broadcast"),
    "wrong output shape": (model_with(out_shape=(3, 2)), "is not the broadcast of"),
    "rank 5": (model_with(shapes=((1, 1, 1, 2, 3), (3,))), "rank 5"),
    "output scale below 2 * max input scale / 2^20": (
        model_with(out_quant=(1e-7, 0)), r"output scale .* too small"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
