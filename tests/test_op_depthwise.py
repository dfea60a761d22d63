"""DEPTHWISE_CONV_2D against the reference kernels: shapes, strides, dilations, depth multipliers,
padding, fused activations and quantization; plus the lowering's choice of kernel and its rejections."""

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
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3


def log_uniform(low_exponent: float, high_exponent: float):
    return st.floats(low_exponent, high_exponent).map(lambda e: float(10.0**e))


def depthwise_model(
    rng: np.random.Generator,
    in_shape=(1, 6, 6, 4),
    kernel=(3, 3),
    depth_multiplier=1,
    stride=(1, 1),
    dilation=(1, 1),
    padding=SAME,
    activation=NONE,
    in_quant=(0.05, 3),
    out_quant=(0.1, -5),
    filter_scales=(0.01,),
    filter_zero_point=0,
    filter_axis=3,
    with_bias=True,
    out_hw=None,
    bias_range=40000,
) -> bytes:
    """A one-operator model; the output size follows from the geometry unless `out_hw` overrides it."""
    batch, in_h, in_w, in_c = in_shape
    out_c = in_c * depth_multiplier
    if out_hw is None:
        out_hw = tuple(output_size(padding, *dims) for dims in zip((in_h, in_w), kernel, stride, dilation))
    filter_scales = np.asarray(filter_scales, dtype=np.float32)
    b = ModelBuilder()
    x = b.tensor(list(in_shape), "int8", *in_quant)
    w = b.const(rng.integers(-127, 128, (1, *kernel, out_c)), "int8", scale=filter_scales,
                zero_point=[filter_zero_point] * filter_scales.size, axis=filter_axis)
    inputs = [x, w]
    if with_bias:
        bias_scales = in_quant[0] * np.broadcast_to(filter_scales, (out_c,))
        inputs.append(b.const(rng.integers(-bias_range, bias_range, out_c), "int32", scale=bias_scales,
                              zero_point=[0] * out_c))
    y = b.tensor([batch, *out_hw, out_c], "int8", *out_quant)
    b.op("DEPTHWISE_CONV_2D", inputs, [y], options(
        "DepthwiseConv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
        dilationHFactor=dilation[0], dilationWFactor=dilation[1], depthMultiplier=depth_multiplier,
        fusedActivationFunction=activation))
    return b.build([x], [y])


@st.composite
def depthwise_cases(draw, three_by_three: bool = False):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    in_shape = (draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 10)), draw(st.integers(1, 10)),
                draw(st.integers(1, 8)))
    depth_multiplier = draw(st.sampled_from([1, 1, 2, 3]))
    if three_by_three:
        kernel, dilation = (3, 3), (1, 1)
    else:
        kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from([SAME, VALID]))
    if any(output_size(padding, *dims) < 1 for dims in zip(in_shape[1:3], kernel, stride, dilation)):
        padding = SAME  # the window does not fit the image without padding
    out_c = in_shape[3] * depth_multiplier
    per_channel = draw(st.booleans())
    filter_scales = 10.0 ** rng.uniform(-4, -1, out_c if per_channel else 1)
    model = depthwise_model(
        rng, in_shape, kernel, depth_multiplier, stride, dilation, padding,
        activation=draw(st.sampled_from([NONE, RELU, RELU6])),
        in_quant=(draw(log_uniform(-3, 0)), draw(st.integers(-128, 127))),
        out_quant=(draw(log_uniform(-3, 0.5)), draw(st.integers(-128, 127))),
        filter_scales=filter_scales,
        with_bias=draw(st.booleans()),
    )
    return model, random_inputs(rng, in_shape, 3)


@settings(max_examples=40, deadline=None)
@given(depthwise_cases())
def test_depthwise_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


@settings(max_examples=30, deadline=None)
@given(depthwise_cases(three_by_three=True))
def test_depthwise_3x3_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


EDGE_CASES = {
    "1x1 image, 3x3 SAME: only the centre tap is inside": dict(in_shape=(1, 1, 1, 5)),
    "stride larger than the image": dict(in_shape=(1, 2, 3, 2), stride=(3, 4)),
    "filter larger than the image, SAME": dict(in_shape=(1, 2, 2, 3), kernel=(4, 5)),
    "depth multiplier 4 on one input channel": dict(in_shape=(1, 5, 5, 1), depth_multiplier=4, kernel=(2, 2)),
    "extreme zero points, RELU6": dict(in_quant=(0.02, -128), out_quant=(0.05, 127), activation=RELU6),
    "multiplier above one (left shift)": dict(in_quant=(0.5, 0), out_quant=(0.001, 0), filter_scales=(0.05,)),
    "tiny multiplier: the output is the zero point": dict(in_quant=(0.001, 10), out_quant=(5.0, -7),
                                                         filter_scales=(1e-4,)),
    "dilated 3x3 uses the general kernel": dict(in_shape=(1, 7, 7, 3), dilation=(2, 2)),
    "3x3 stride 2 VALID": dict(in_shape=(1, 9, 8, 6), stride=(2, 2), padding=VALID),
    "3x3 stride 3, VALID leaves input rows and columns unread": dict(in_shape=(1, 11, 10, 3), stride=(3, 3),
                                                                      padding=VALID),
    "3x3 on a 1-pixel-wide image": dict(in_shape=(1, 7, 1, 4)),
    "3x3, 40 channels, stride 2 SAME on even sizes (padding bottom/right only)": dict(
        in_shape=(1, 8, 6, 40), stride=(2, 2)),
    "3x3 with a bias beyond the packed range: the general kernel": dict(bias_range=2**31 - 2**20),
    "3x3, depth multiplier 3, stride 2, odd rows: a last band of one row": dict(
        in_shape=(1, 9, 7, 2), depth_multiplier=3, stride=(2, 2)),
    "3x3, depth multiplier 8 on one input channel, bands of padding rows": dict(
        in_shape=(1, 5, 6, 1), depth_multiplier=8, in_quant=(0.05, -100)),
}


@pytest.mark.parametrize("spec", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_depthwise_edge_cases(spec):
    rng = np.random.default_rng(7)
    assert_bit_exact(depthwise_model(rng, **spec), random_inputs(rng, spec.get("in_shape", (1, 6, 6, 4)), 4))


def lowered_functions(model: bytes) -> list[str]:
    return [call.function for call in compile_graph(parse_model(model), "depthwise").calls]


@pytest.mark.parametrize("spec, function", [
    (dict(), "hil_depthwise_conv_3x3_s8"),
    (dict(stride=(2, 1), padding=VALID), "hil_depthwise_conv_3x3_s8"),
    (dict(depth_multiplier=2), "hil_depthwise_conv_3x3_s8"),
    (dict(dilation=(1, 2)), "hil_depthwise_conv_s8"),
    (dict(kernel=(3, 2)), "hil_depthwise_conv_s8"),
    (dict(bias_range=2**31 - 2**20), "hil_depthwise_conv_s8"),
])
def test_lowering_picks_the_3x3_kernel_only_when_it_applies(spec, function):
    assert lowered_functions(depthwise_model(np.random.default_rng(0), **spec)) == [function]


def test_3x3_kernel_gets_a_row_of_accumulators_and_a_padded_channel_of_scratch():
    (call,) = compile_graph(parse_model(depthwise_model(np.random.default_rng(0), in_shape=(1, 6, 7, 5))), "d").calls
    # SAME 3x3 stride 1 on 6x7: 7 int32 accumulators, then the 8x9 padded window as int16, its
    # rows 10 wide (stride 1 reads them as word pairs from an even pitch)
    assert call.scratch_bytes == 7 * 4 + 8 * 10 * 2


def test_3x3_kernel_with_a_depth_multiplier_copies_bands_of_two_output_rows():
    model = depthwise_model(np.random.default_rng(0), in_shape=(1, 6, 7, 5), depth_multiplier=2, stride=(2, 1))
    (call,) = compile_graph(parse_model(model), "d").calls
    # 3x7 outputs: 7 accumulators, then the window of 2 output rows at stride 2 (5 rows) by 9 columns, pitch 10
    assert (call.function, call.scratch_bytes) == ("hil_depthwise_conv_3x3_s8", 7 * 4 + 5 * 10 * 2)


def non_constant_filter_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 2], "int8", 0.05, 0)
    w = b.tensor([1, 3, 3, 2], "int8", 0.01, 0)
    y = b.tensor([1, 4, 4, 2], "int8", 0.1, 0)
    b.op("DEPTHWISE_CONV_2D", [x, w], [y], options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1))
    return b.build([x], [y])


REJECTIONS = {
    "filter zero point": (lambda rng: depthwise_model(rng, filter_zero_point=3), "must be symmetric"),
    "per-channel along the wrong axis": (
        lambda rng: depthwise_model(rng, filter_scales=[0.01] * 4, filter_axis=0),
        "per output channel along axis 3"),
    "RELU_N1_TO_1": (lambda rng: depthwise_model(rng, activation=RELU_N1_TO_1), "RELU_N1_TO_1 is not supported"),
    "output size": (lambda rng: depthwise_model(rng, out_hw=(5, 6)), "the geometry gives 6x6"),
    "non-constant filter": (lambda rng: non_constant_filter_model(), "must be a constant 4-D"),
}


@pytest.mark.parametrize("build, message", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_depthwise_rejections(build, message):
    with pytest.raises(HilError, match=message):
        lowered_functions(build(np.random.default_rng(0)))


def test_rejects_channels_that_do_not_fit():
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 3], "int8", 0.05, 0)
    w = b.const(np.ones((1, 3, 3, 4)), "int8", scale=[0.01], zero_point=[0], axis=3)
    y = b.tensor([1, 4, 4, 4], "int8", 0.1, 0)
    b.op("DEPTHWISE_CONV_2D", [x, w], [y], options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1))
    with pytest.raises(HilError, match="do not fit"):
        lowered_functions(b.build([x], [y]))



def test_3x3_kernel_refuses_a_stride_beyond_its_16_bit_field():
    model = depthwise_model(np.random.default_rng(1), in_shape=(1, 4, 4, 1), stride=(1, 65536))
    with pytest.raises(HilError, match=r"^operator 0 \(DEPTHWISE_CONV_2D\): stride_w 65536 does not fit"):
        lowered_functions(model)
