"""The standalone activations (RELU, RELU6, LEAKY_RELU, LOGISTIC, HARD_SWISH) against the reference
kernels: every int8 input value at once, over input and output quantizations and LEAKY_RELU's
alpha; each is one table of 256 values, so all 256 inputs check all of it."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact
from tflite_builder import ModelBuilder, options

ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
LOGISTIC_OUTPUT = (1.0 / 256, -128)  # TFLite's rule for int8 LOGISTIC
KINDS = ("RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "HARD_SWISH")

scales = st.floats(-3, 1).map(lambda e: float(10.0**e))
zero_points = st.integers(-128, 127)


def activation_model(kind: str, in_quant, out_quant, shape=(1, 256), alpha: float = 0.2) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *in_quant)
    y = b.tensor(list(shape), "int8", *out_quant)
    opts = options("LeakyReluOptions", alpha=alpha) if kind == "LEAKY_RELU" else None
    b.op(kind, [x], [y], opts)
    return b.build([x], [y])


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(KINDS), scales, zero_points, scales, zero_points, st.floats(0.0, 1.0))
@example("HARD_SWISH", 0.1, 0, 0.1, 0, 0.2)
@example("HARD_SWISH", 10.0, -128, 0.01, 127, 0.2)
@example("LOGISTIC", 0.001, 5, 1.0, 0, 0.2)
@example("LEAKY_RELU", 0.05, 100, 0.02, -100, 0.0)
@example("RELU6", 0.1, -128, 0.03, -128, 0.2)
def test_every_input_value_matches_reference(kind, in_scale, in_zp, out_scale, out_zp, alpha):
    out_quant = LOGISTIC_OUTPUT if kind == "LOGISTIC" else (out_scale, out_zp)
    if kind == "HARD_SWISH" and not 2.0**-8 < in_scale / out_scale < 128:
        out_scale = in_scale  # outside the supported ratio (rejected below); keep the case useful
        out_quant = (out_scale, out_zp)
    assert_bit_exact(activation_model(kind, (in_scale, in_zp), out_quant, alpha=alpha), ALL_INT8[None])


@pytest.mark.parametrize("kind", KINDS)
def test_any_shape_is_one_flat_lookup(kind):
    out_quant = LOGISTIC_OUTPUT if kind == "LOGISTIC" else (0.05, 3)
    model = activation_model(kind, (0.04, -7), out_quant, shape=(2, 3, 5, 7))
    assert_bit_exact(model, np.random.default_rng(1).integers(-128, 128, (3, 2, 3, 5, 7), dtype=np.int8))


REJECTIONS = {
    "LOGISTIC output not on 1/256": (activation_model("LOGISTIC", (0.1, 0), (0.01, -128)), "scale 1/256"),
    "negative LEAKY_RELU alpha": (activation_model("LEAKY_RELU", (0.1, 0), (0.1, 0), alpha=-0.5), "alpha -0.5"),
    "HARD_SWISH output scale 1000x the input's": (
        activation_model("HARD_SWISH", (0.01, 0), (10.0, 0)), "are not supported"),
    "int16 RELU": (None, "must be int8"),
}


def int16_relu() -> bytes:
    b = ModelBuilder()
    x = b.tensor([4], "int16", 0.1, 0)
    y = b.tensor([4], "int16", 0.1, 0)
    b.op("RELU", [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model or int16_relu(), "rejected.tflite"), "rejected")


def test_an_operator_outside_the_list_is_refused_with_its_name_index_and_the_list():
    b = ModelBuilder()
    x = b.tensor([4], "int8", 0.1, 0)
    y = b.tensor([4], "int8", 0.1, 0)
    z = b.tensor([4], "int8", 1.0 / 128, 0)
    b.op("RELU", [x], [y])
    b.op("TANH", [y], [z])
    with pytest.raises(HilError) as refused:
        compile_graph(parse_model(b.build([x], [z]), "tanh.tflite"), "tanh")
    message = str(refused.value)
    assert message.startswith("operator 1 (TANH) is not supported; supported operators: ")
    listed = message.split("supported operators: ")[1].split(", ")
    assert {"PAD", "PADV2", "MUL", "RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "HARD_SWISH", "SQUEEZE",
            "EXPAND_DIMS", "CONV_2D"} <= set(listed)
