"""FULLY_CONNECTED against the reference kernels: shapes, ranks, keep_num_dims, bias, activations, quantization.

LiteRT's reference kernel requantizes in double (round(acc * in_scale * w_scale / out_scale)),
not with a Q31 multiplier; the ties and near-ties of that rounding are exercised on purpose.
"""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.compiler.ops.fully_connected import lower_fully_connected
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

ACTIVATIONS = [0, 1, 3]  # NONE, RELU, RELU6

# The shared ESC-10 Yamnet-256 head: FULLY_CONNECTED 256 -> 10 on the global average.
YAMNET_HEAD = {
    "in_scale": 0.01013207, "in_zp": -128, "w_scale": 0.00960568, "out_scale": 0.12206584, "out_zp": 64,
}


def log_uniform(draw, low: float, high: float) -> float:
    return float(10 ** draw(st.floats(np.log10(low), np.log10(high))))


def fc_model(input_shape, weights, bias, in_scale, in_zp, w_scales, out_scale, out_zp,
             keep_num_dims=False, activation=0, bias_slot=True, **fields) -> bytes:
    """A one-operator model; bias None with bias_slot gives the optional input as -1."""
    units, depth = weights.shape
    batches = int(np.prod(input_shape)) // depth
    out_shape = list(input_shape[:-1]) + [units] if keep_num_dims else [batches, units]
    b = ModelBuilder()
    x = b.tensor(list(input_shape), "int8", in_scale, in_zp)
    w = b.const(weights, "int8", scale=w_scales, zero_point=[0] * np.size(w_scales), axis=0)
    inputs = [x, w]
    if bias is not None:
        bias_scales = np.float32(in_scale) * np.asarray(w_scales, dtype=np.float32)
        inputs.append(b.const(bias, "int32", scale=bias_scales, zero_point=[0] * bias_scales.size))
    elif bias_slot:
        inputs.append(-1)
    y = b.tensor(out_shape, "int8", out_scale, out_zp)
    b.op("FULLY_CONNECTED", inputs, [y], options(
        "FullyConnectedOptions", fusedActivationFunction=activation, keepNumDims=keep_num_dims, **fields))
    return b.build([x], [y])


@st.composite
def fc_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    units = draw(st.integers(1, 16))
    split = (draw(st.integers(1, 8)), draw(st.integers(1, 12)))  # depth = a * b
    depth = split[0] * split[1]
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    keep_num_dims = draw(st.booleans())
    # Without keep_num_dims the input may be any shape holding whole rows of `depth` values.
    input_shape = lead + [depth] if keep_num_dims or draw(st.booleans()) else lead + list(split)
    per_channel = draw(st.booleans())
    in_scale = log_uniform(draw, 1e-3, 1.0)
    w_scales = np.array([log_uniform(draw, 1e-4, 1e-1) for _ in range(units if per_channel else 1)])
    # Output scale around the accumulator's spread, from saturating to very fine.
    spread = in_scale * float(w_scales.max()) * 127 * np.sqrt(depth)
    out_scale = spread * log_uniform(draw, 1e-3, 1.0)
    weights = rng.integers(-127, 128, (units, depth))
    bias = None if draw(st.integers(0, 3)) == 0 else rng.integers(-20000, 20000, units)
    model = fc_model(
        input_shape, weights, bias, in_scale, draw(st.integers(-128, 127)), w_scales, out_scale,
        draw(st.integers(-128, 127)), keep_num_dims, draw(st.sampled_from(ACTIVATIONS)),
        bias_slot=draw(st.booleans()),
    )
    return model, random_inputs(rng, input_shape, 4)


@settings(max_examples=40, deadline=None)
@given(fc_cases())
def test_fully_connected_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_yamnet_head_matches_reference(activation):
    rng = np.random.default_rng(10)
    weights = rng.integers(-127, 77, (10, 256))
    bias = rng.integers(-464, 214, 10)
    model = fc_model([1, 256], weights, bias, YAMNET_HEAD["in_scale"], YAMNET_HEAD["in_zp"],
                     [YAMNET_HEAD["w_scale"]], YAMNET_HEAD["out_scale"], YAMNET_HEAD["out_zp"],
                     activation=activation)
    assert_bit_exact(model, random_inputs(rng, (1, 256), 64))


def test_exact_ties_round_half_away_from_zero():
    """Scale 1/2 exactly: every odd accumulator lands on .5 and must round away from zero."""
    rng = np.random.default_rng(11)
    weights = rng.integers(-3, 4, (8, 5))
    model = fc_model([16, 5], weights, rng.integers(-9, 10, 8), 0.5, 3, [0.5], 0.5, -1)
    outputs = assert_bit_exact(model, random_inputs(rng, (16, 5), 8))
    assert len(np.unique(outputs)) > 10  # the ties are not all clamped away


def test_per_channel_with_large_accumulators_matches_reference():
    rng = np.random.default_rng(12)
    weights = rng.choice([-127, 127], (6, 200))
    scales = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
    model = fc_model([3, 200], weights, rng.integers(-10**6, 10**6, 6), 0.02, -128, scales, 0.5, 5)
    assert_bit_exact(model, random_inputs(rng, (3, 200), 8))


def test_rank4_input_flattened_matches_reference():
    rng = np.random.default_rng(13)
    model = fc_model([2, 3, 4, 8], rng.integers(-127, 128, (7, 32)), rng.integers(-100, 100, 7),
                     0.05, 10, [0.01], 0.5, -20)
    assert_bit_exact(model, random_inputs(rng, (2, 3, 4, 8), 4))


def compile_model(model: bytes):
    return compile_graph(parse_model(model, "fc.tflite"), "fc")


def base_model(**overrides) -> bytes:
    rng = np.random.default_rng(0)
    args = {"input_shape": [1, 8], "weights": rng.integers(-127, 128, (4, 8)), "bias": rng.integers(-9, 9, 4),
            "in_scale": 0.1, "in_zp": 0, "w_scales": [0.01], "out_scale": 0.1, "out_zp": 0}
    args.update(overrides)
    return fc_model(**args)


def test_base_model_compiles():
    assert compile_model(base_model()).calls[0].function == "hil_fully_connected_s8"


@pytest.mark.parametrize("overrides, message", [
    ({"weightsFormat": schema.FullyConnectedOptionsWeightsFormat.SHUFFLED4x16INT8},
     "weights format SHUFFLED4x16INT8 is not supported"),
    ({"asymmetricQuantizeInputs": True}, "asymmetric_quantize_inputs is not supported"),
    ({"activation": 2}, "fused activation RELU_N1_TO_1 is not supported"),
    ({"out_scale": 1e-9, "weights": np.full((4, 8), 127)}, "overflows int32"),
])
def test_rejections(overrides, message):
    with pytest.raises(HilError, match=message):
        compile_model(base_model(**overrides))


def single_fc(input_dtype="int8", filter_dtype="int8", filter_zp=0, bias_dtype="int32", out_shape=(1, 4),
              constant_filter=True, filter_axis=0, filter_scales=(0.01,)) -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 8], input_dtype, 0.1, 0)
    scales = list(filter_scales)
    if constant_filter:
        w = b.const(np.ones((4, 8)), filter_dtype, scale=scales, zero_point=[filter_zp] * len(scales),
                    axis=filter_axis)
    else:
        w = b.tensor([4, 8], filter_dtype, scales, [filter_zp] * len(scales))
    bias = b.const(np.zeros(4), bias_dtype, scale=0.001, zero_point=0)
    y = b.tensor(list(out_shape), "int8", 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions"))
    return b.build([x] if constant_filter else [x, w], [y])


@pytest.mark.parametrize("kwargs, message", [
    ({"input_dtype": "int16"}, "input tensor .* must be int8"),
    ({"filter_dtype": "uint8"}, "filter tensor .* must be int8"),
    ({"filter_zp": 3}, "must be symmetric"),
    ({"bias_dtype": "int16"}, "bias tensor .* must be int32"),
    ({"out_shape": (4, 1)}, r"output shape \[4, 1\] does not match the expected \[1, 4\]"),
    ({"filter_axis": 1, "filter_scales": [0.01] * 4}, "per output channel along axis 0"),
])
def test_tensor_rejections(kwargs, message):
    with pytest.raises(HilError, match=message):
        compile_model(single_fc(**kwargs))


def test_filter_computed_at_run_time_is_rejected():
    graph = parse_model(single_fc(constant_filter=False), "fc.tflite")
    with pytest.raises(HilError, match="must be a constant"):
        lower_fully_connected(graph.operators[0], graph)


def test_rows_that_do_not_divide_the_input_are_rejected():
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.tensor([1, 10], "int8", 0.1, 0)
    w = b.const(rng.integers(-5, 5, (3, 4)), "int8", scale=0.01, zero_point=0)
    y = b.tensor([2, 3], "int8", 0.1, 0)
    b.op("FULLY_CONNECTED", [x, w], [y], options("FullyConnectedOptions"))
    with pytest.raises(HilError, match="cannot be flattened into rows of 4 values"):
        compile_model(b.build([x], [y]))
