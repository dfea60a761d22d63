"""CONV_2D against the reference kernels, over shapes, strides, dilations, padding and quantization;
the lowering's choice of kernel, and the compile-time preparation of the packed kernels.

Every case runs through both kernel paths (engine_check): the DSP path, its instructions written
in C, and the portable path. tests/test_kernels_on_emulator.py runs the real instructions.
"""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.compiler.ops.conv import folded_bias, pack_filter, packed_kernel_fits
from harness.errors import HilError

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


@st.composite
def wide_pointwise_models(draw):
    """1x1 layers shaped like a network's: channel counts on and off multiples of 4 and 8, odd
    output channel counts (the lone last channel), odd pixel counts (the lone last pixel), and
    scales that give both right and left shifts."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    in_c, out_c = draw(st.integers(1, 72)), draw(st.integers(1, 33))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    in_scale, out_scale = draw(st.floats(0.005, 0.5)), draw(st.floats(0.0005, 2.0))
    w_scales = rng.uniform(0.001, 0.05, out_c)
    b = ModelBuilder()
    x = b.tensor([1, h, w, in_c], "int8", in_scale, draw(st.integers(-128, 127)))
    weights = b.const(rng.integers(-127, 128, (out_c, 1, 1, in_c)), "int8", scale=w_scales,
                      zero_point=[0] * out_c, axis=0)
    bias = b.const(rng.integers(-50000, 50000, out_c), "int32", scale=in_scale * w_scales, zero_point=[0] * out_c)
    y = b.tensor([1, h, w, out_c], "int8", out_scale, draw(st.integers(-128, 127)))
    b.op("CONV_2D", [x, weights, bias], [y], options(
        "Conv2DOptions", padding=schema.Padding.SAME, strideH=1, strideW=1,
        fusedActivationFunction=draw(st.sampled_from(ACTIVATIONS))))
    return b.build([x], [y]), random_inputs(rng, (1, h, w, in_c), 3)


@settings(max_examples=25, deadline=None)
@given(wide_pointwise_models())
def test_wide_pointwise_conv_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


def conv_model(rng, in_shape=(1, 12, 10, 1), filters=8, kernel=(3, 3), stride=(2, 2), padding=schema.Padding.SAME,
               in_quant=(0.0564, 35), out_quant=(0.03, -128), bias_range=5000, activation=1, w_scale=0.01):
    """One CONV_2D shaped like the first layer of an audio CNN by default (1 channel, 3x3, stride 2)."""
    batch, in_h, in_w, in_c = in_shape
    k_h, k_w = kernel
    out_h = -(-in_h // stride[0]) if padding == schema.Padding.SAME else (in_h - k_h + stride[0]) // stride[0]
    out_w = -(-in_w // stride[1]) if padding == schema.Padding.SAME else (in_w - k_w + stride[1]) // stride[1]
    w_scales = np.full(filters, w_scale)
    b = ModelBuilder()
    x = b.tensor(list(in_shape), "int8", *in_quant)
    weights = b.const(rng.integers(-127, 128, (filters, k_h, k_w, in_c)), "int8", scale=w_scales,
                      zero_point=[0] * filters, axis=0)
    bias = b.const(rng.integers(-bias_range, bias_range + 1, filters), "int32", scale=in_quant[0] * w_scales,
                   zero_point=[0] * filters)
    y = b.tensor([batch, out_h, out_w, filters], "int8", *out_quant)
    b.op("CONV_2D", [x, weights, bias], [y], options(
        "Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1], fusedActivationFunction=activation))
    return b.build([x], [y])


EDGE_CASES = {
    "first layer: 1 channel, 3x3 stride 2, SAME": dict(),
    "first layer, VALID, odd sizes": dict(in_shape=(1, 13, 11, 1), padding=schema.Padding.VALID),
    "first layer, 33 filters (a lone last channel)": dict(filters=33),
    "one input channel, 2 images, stride 1": dict(in_shape=(2, 7, 6, 1), stride=(1, 1), filters=5),
    "one input channel, stride 3 by 1, VALID": dict(in_shape=(1, 11, 5, 1), stride=(3, 1),
                                                    padding=schema.Padding.VALID),
    "2 images": dict(in_shape=(2, 7, 6, 3), filters=5),
    "left shift: effective scale above 1": dict(in_quant=(0.5, 0), out_quant=(0.002, 3), w_scale=0.05,
                                                bias_range=100),
    "input zero point -128 (folded bias at its largest)": dict(in_shape=(1, 6, 6, 16), kernel=(1, 1),
                                                              stride=(1, 1), in_quant=(0.02, -128)),
    "pointwise, 256 channels in": dict(in_shape=(1, 3, 3, 256), filters=7, kernel=(1, 1), stride=(1, 1)),
    "bias beyond the packed kernels' range: the general kernel": dict(in_shape=(1, 5, 5, 4), kernel=(1, 1),
                                                                      stride=(1, 1), bias_range=2**31 - 2**20),
}


@pytest.mark.parametrize("spec", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_conv_edge_cases(spec):
    rng = np.random.default_rng(11)
    in_shape = spec.get("in_shape", (1, 12, 10, 1))
    assert_bit_exact(conv_model(rng, **spec), random_inputs(rng, in_shape, 4))


def lowered(model: bytes):
    (call,) = compile_graph(parse_model(model), "conv").calls
    return call


@pytest.mark.parametrize("spec, function", [
    (dict(), "hil_depthwise_conv_3x3_s8"),  # one input channel: a depthwise multiplier of 8
    (dict(in_shape=(1, 12, 10, 2)), "hil_conv_im2col_s8"),
    (dict(kernel=(3, 2)), "hil_conv_im2col_s8"),
    (dict(kernel=(1, 1), stride=(1, 1)), "hil_conv_1x1_s8"),
    (dict(kernel=(1, 1), stride=(2, 2)), "hil_conv_im2col_s8"),
    (dict(kernel=(1, 1), stride=(1, 1), bias_range=2**31 - 2**20), "hil_conv_s8"),
])
def test_lowering_picks_the_packed_kernels_when_they_apply(spec, function):
    assert lowered(conv_model(np.random.default_rng(3), **spec)).function == function


def test_grouped_convolution_uses_the_general_kernel():
    rng = np.random.default_rng(4)
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 4], "int8", 0.05, 0)
    w = b.const(rng.integers(-127, 128, (4, 3, 3, 2)), "int8", scale=[0.01], zero_point=[0], axis=0)
    bias = b.const(np.zeros(4), "int32", scale=[0.0005], zero_point=[0])
    y = b.tensor([1, 4, 4, 4], "int8", 0.1, 0)
    b.op("CONV_2D", [x, w, bias], [y], options("Conv2DOptions", padding=schema.Padding.SAME, strideH=1, strideW=1))
    assert lowered(b.build([x], [y])).function == "hil_conv_s8"


def test_packed_filter_pairs_channels_by_groups_of_four_taps():
    filters = np.arange(3 * 6, dtype=np.int8).reshape(3, 6)  # 3 channels of 6 taps: K4 = 8
    packed = pack_filter(filters).tolist()
    assert packed == [
        0, 1, 2, 3, 6, 7, 8, 9,        # taps 0-3 of channel 0, then of channel 1
        4, 5, 0, 0, 10, 11, 0, 0,      # taps 4-5 (and the padding to K4) of channel 0, then of channel 1
        12, 13, 14, 15, 16, 17, 0, 0,  # the lone last channel, its K4 taps in order
    ]


def test_folded_bias_cancels_the_input_offset():
    rng = np.random.default_rng(5)
    filters = rng.integers(-127, 128, (4, 20)).astype(np.int8)
    bias, zero_point = rng.integers(-1000, 1000, 4), -37
    x = rng.integers(-128, 128, 20)
    folded = folded_bias(filters, bias, -zero_point)
    assert np.array_equal(folded + filters.astype(np.int64) @ x, bias + filters.astype(np.int64) @ (x - zero_point))


def test_packed_kernels_refuse_accumulators_beyond_their_bound():
    filters = np.full((2, 64), 127, dtype=np.int8)  # 256 * sum|filter| = 2,080,768
    assert packed_kernel_fits(filters, np.array([0, 0]), [-5, -5])
    assert not packed_kernel_fits(filters, np.array([0, 2**31 - 2**20]), [-5, -5])  # partial sums leave int32
    assert not packed_kernel_fits(filters, np.array([0, 0]), [-5, 10])  # 2^10 * 2,072,640 >= 2^30
    assert not packed_kernel_fits(filters, None, [-31, 30])  # the left shift of 30 overflows
    assert not packed_kernel_fits(filters, None, [-32, 0])  # outside hil_requant's shifts



def test_packed_kernels_take_strides_up_to_16_bits_and_refuse_a_layer_beyond():
    """hil_conv_packed_params holds strides in uint16: 65535 is kept exactly, 65536 is refused."""
    rng = np.random.default_rng(6)
    call = lowered(conv_model(rng, in_shape=(1, 3, 3, 1), kernel=(1, 1), stride=(65535, 1), filters=2))
    assert (call.function, call.params["stride_h"]) == ("hil_conv_im2col_s8", 65535)
    message = (r"^operator 0 \(CONV_2D\): stride_h 65536 does not fit the packed convolution kernels' 16-bit "
               r"field \(0 to 65535\); this layer is beyond them$")
    with pytest.raises(HilError, match=message):
        lowered(conv_model(rng, in_shape=(1, 3, 3, 1), kernel=(1, 1), stride=(65536, 1), filters=2))
