"""AVERAGE_POOL_2D and MAX_POOL_2D against the reference kernels: window sizes, strides, padding
(partial windows near the border), fused activations and quantization; plus the lowering's rejections."""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.compiler.ops.conv import output_size
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

SAME, VALID = schema.Padding.SAME, schema.Padding.VALID
NONE, RELU, RELU_N1_TO_1, RELU6, TANH = 0, 1, 2, 3, 4
POOLS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]


def pool_model(
    kind: str,
    in_shape=(1, 6, 6, 3),
    window=(2, 2),
    stride=(2, 2),
    padding=SAME,
    activation=NONE,
    in_quant=(0.05, 3),
    out_quant=None,
    out_shape=None,
    dtype="int8",
) -> bytes:
    """A one-operator model; output quantization and shape follow the input unless overridden."""
    batch, in_h, in_w, channels = in_shape
    if out_shape is None:
        out_hw = [output_size(padding, size, w, s, 1) for size, w, s in zip((in_h, in_w), window, stride)]
        out_shape = [batch, *out_hw, channels]
    b = ModelBuilder()
    x = b.tensor(list(in_shape), dtype, *in_quant)
    y = b.tensor(list(out_shape), dtype, *(out_quant or in_quant))
    b.op(kind, [x], [y], options(
        "Pool2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
        filterHeight=window[0], filterWidth=window[1], fusedActivationFunction=activation))
    return b.build([x], [y])


@st.composite
def pool_cases(draw, kind: str):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    in_shape = (draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 12)), draw(st.integers(1, 12)),
                draw(st.integers(1, 8)))
    window = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = draw(st.sampled_from([SAME, VALID]))
    if any(output_size(padding, size, w, s, 1) < 1 for size, w, s in zip(in_shape[1:3], window, stride)):
        padding = SAME  # the window does not fit the image without padding
    scale = float(10.0 ** draw(st.floats(-3, 0.5)))
    model = pool_model(kind, in_shape, window, stride, padding,
                       activation=draw(st.sampled_from([NONE, RELU, RELU6])),
                       in_quant=(scale, draw(st.integers(-128, 127))))
    return model, random_inputs(rng, in_shape, 3)


@settings(max_examples=40, deadline=None)
@given(pool_cases("AVERAGE_POOL_2D"))
def test_average_pool_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


@settings(max_examples=40, deadline=None)
@given(pool_cases("MAX_POOL_2D"))
def test_max_pool_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


EDGE_CASES = {
    "global pool over the whole image": dict(in_shape=(1, 12, 9, 4), window=(12, 9), stride=(1, 1), padding=VALID),
    "window larger than the image, SAME": dict(in_shape=(1, 3, 2, 2), window=(5, 4), stride=(1, 1)),
    "stride larger than the window": dict(in_shape=(1, 11, 10, 2), window=(2, 1), stride=(4, 3)),
    "RELU6 clips both ends": dict(in_quant=(0.1, -20), activation=RELU6),
    "RELU with the zero point at the top of the range": dict(in_quant=(0.02, 127), activation=RELU),
    "1x1 window copies": dict(in_shape=(2, 3, 4, 5), window=(1, 1), stride=(1, 1)),
}


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("spec", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_pool_edge_cases(kind, spec):
    rng = np.random.default_rng(11)
    assert_bit_exact(pool_model(kind, **spec), random_inputs(rng, spec.get("in_shape", (1, 6, 6, 3)), 4))


def test_average_rounds_ties_away_from_zero():
    model = pool_model("AVERAGE_POOL_2D", in_shape=(1, 1, 8, 1), window=(1, 2), stride=(1, 2), padding=VALID)
    ties = np.array([1, 2, -1, -2, 127, 126, -128, -127], dtype=np.int8).reshape(1, 1, 1, 8, 1)
    assert assert_bit_exact(model, ties).reshape(-1).tolist() == [2, -2, 127, -128]


def lower(model: bytes):
    return compile_graph(parse_model(model), "pool").calls


REJECTIONS = {
    "different output scale": (dict(out_quant=(0.1, 3)), "must share scale and zero point"),
    "different output zero point": (dict(out_quant=(0.05, 4)), "must share scale and zero point"),
    "RELU_N1_TO_1": (dict(activation=RELU_N1_TO_1), "RELU_N1_TO_1 is not supported"),
    "TANH": (dict(activation=TANH), "is not supported"),
    "output size": (dict(out_shape=[1, 2, 3, 3]), "the geometry gives 3x3"),
    "channel count": (dict(out_shape=[1, 3, 3, 4]), "differ in batch or channels"),
    "empty window": (dict(window=(0, 2), out_shape=[1, 3, 3, 3]), "filter 0x2 is not supported"),
    "int16 tensors": (dict(dtype="int16"), "must be int8"),
    "rank-3 output": (dict(out_shape=[3, 3, 3]), "must be 4-D"),
}


@pytest.mark.parametrize("kind", POOLS)
@pytest.mark.parametrize("spec, message", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_pool_rejections(kind, spec, message):
    with pytest.raises(HilError, match=message):
        lower(pool_model(kind, **spec))


@pytest.mark.parametrize("kind, function", [("AVERAGE_POOL_2D", "hil_avg_pool_s8"), ("MAX_POOL_2D", "hil_max_pool_s8")])
def test_pool_lowering(kind, function):
    (call,) = lower(pool_model(kind, in_shape=(1, 7, 5, 3), window=(3, 2), stride=(2, 2)))
    assert call.function == function
    assert (call.params["pad_h"], call.params["pad_w"]) == (1, 0)
    assert call.scratch_bytes == 0
