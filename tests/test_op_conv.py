"""CONV_2D against the reference kernels, over shapes, strides, dilations, padding and quantization."""

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

ACTIVATIONS = [0, 1, 3]  # NONE, RELU, RELU6


@st.composite
def conv_models(draw, pointwise: bool = False):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    in_h, in_w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    groups = 1 if pointwise else draw(st.sampled_from([1, 1, 1, 2]))
    in_c = draw(st.integers(1, 8)) * groups
    out_c = draw(st.integers(1, 6)) * groups
    k_h, k_w = (1, 1) if pointwise else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (1, 1) if pointwise else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1) if pointwise else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from([schema.Padding.SAME, schema.Padding.VALID]))
    eff_h, eff_w = (k_h - 1) * dilation[0] + 1, (k_w - 1) * dilation[1] + 1
    if padding == schema.Padding.SAME:
        out_h, out_w = -(-in_h // stride[0]), -(-in_w // stride[1])
    else:
        out_h, out_w = (in_h - eff_h + stride[0]) // stride[0], (in_w - eff_w + stride[1]) // stride[1]
    if out_h < 1 or out_w < 1:
        padding, out_h, out_w = schema.Padding.SAME, -(-in_h // stride[0]), -(-in_w // stride[1])
    per_channel = draw(st.booleans())
    in_scale, out_scale = draw(st.floats(0.005, 0.5)), draw(st.floats(0.01, 2.0))
    in_zp, out_zp = draw(st.integers(-128, 127)), draw(st.integers(-128, 127))
    w_scales = rng.uniform(0.001, 0.05, out_c if per_channel else 1)

    b = ModelBuilder()
    x = b.tensor([1, in_h, in_w, in_c], "int8", in_scale, in_zp)
    w = b.const(rng.integers(-127, 128, (out_c, k_h, k_w, in_c // groups)), "int8",
                scale=w_scales, zero_point=[0] * w_scales.size, axis=0)
    # LiteRT requires a bias for int8 CONV_2D, so every generated model has one.
    bias = b.const(rng.integers(-50000, 50000, out_c), "int32",
                   scale=in_scale * np.broadcast_to(w_scales, (out_c,)), zero_point=[0] * out_c)
    y = b.tensor([1, out_h, out_w, out_c], "int8", out_scale, out_zp)
    b.op("CONV_2D", [x, w, bias], [y], options(
        "Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
        dilationHFactor=dilation[0], dilationWFactor=dilation[1],
        fusedActivationFunction=draw(st.sampled_from(ACTIVATIONS))))
    return b.build([x], [y]), random_inputs(rng, (1, in_h, in_w, in_c), 4)


@settings(max_examples=40, deadline=None)
@given(conv_models())
def test_conv_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


@settings(max_examples=15, deadline=None)
@given(conv_models(pointwise=True))
def test_pointwise_conv_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)
