"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32) against the reference
kernels: every zero point, scales over orders of magnitude, float inputs on exact .5 rounding
boundaries, saturation, infinities, NaN and negative zero; plus the lowerings' rejections."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
zero_points = st.integers(-128, 127)
# A power-of-two scale makes (k + 0.5) * scale / scale exactly k + 0.5 in float32: true ties.
scales = st.one_of(st.floats(-4, 1).map(lambda e: float(10.0**e)), st.integers(-12, 3).map(lambda e: 2.0**e))


def one_op_model(kind: str, shape, in_dtype: str, in_quant, out_dtype: str, out_quant, out_shape=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), in_dtype, *in_quant)
    y = b.tensor(list(out_shape or shape), out_dtype, *out_quant)
    b.op(kind, [x], [y])
    return b.build([x], [y])


def quantize_model(shape, scale: float, zero_point: int) -> bytes:
    return one_op_model("QUANTIZE", shape, "float32", (), "int8", (scale, zero_point))


def tricky_floats(scale: float, zero_point: int) -> np.ndarray:
    """Values where float32 rounding, saturation or the reference's int32 cast decide the result."""
    steps = np.arange(-140, 141, dtype=np.float64) - zero_point
    ties = (steps + 0.5) * scale  # .5 boundaries of the scaled value around the int8 range
    limits = np.array([2.0**31, 2.0**31 - 128, 2.0**30, 3e9, 1e12]) * scale
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, np.finfo(np.float32).max, 1e-45, -1e-45]
    with np.errstate(over="ignore"):
        return np.concatenate([ties, limits, -limits, specials]).astype(np.float32)


def float_inputs(rng: np.random.Generator, shape, scale: float, zero_point: int, count: int = 3) -> np.ndarray:
    """Half tricky values, half uniform over the int8 range and a little beyond."""
    size = int(np.prod(shape))
    pool = tricky_floats(scale, zero_point)
    tricky = rng.choice(pool, (count, size))
    uniform = rng.uniform(-300.0 * scale, 300.0 * scale, (count, size)).astype(np.float32)
    return np.where(rng.random((count, size)) < 0.5, tricky, uniform).reshape(count, *shape)


@settings(max_examples=30, deadline=None)
@given(shapes, scales, zero_points, st.integers(0, 2**32 - 1))
def test_quantize_float_matches_reference(shape, scale, zero_point, seed):
    inputs = float_inputs(np.random.default_rng(seed), shape, scale, zero_point)
    assert_bit_exact(quantize_model(shape, scale, zero_point), inputs)


@pytest.mark.parametrize("zero_point", [-128, -1, 0, 1, 127])
@pytest.mark.parametrize("scale", [1.0, 0.1, 2.0**-7, 3.0e-3])
def test_quantize_every_tricky_float(scale, zero_point):
    """The whole table of ties and extremes at once, for zero points of both signs (the cast's
    out-of-range result plus a negative zero point wraps around to +127 in the reference)."""
    values = tricky_floats(scale, zero_point)
    assert_bit_exact(quantize_model(values.shape, scale, zero_point), values[None])


@settings(max_examples=30, deadline=None)
@given(shapes, scales, zero_points, st.floats(-3, 3), zero_points, st.integers(0, 2**32 - 1))
@example((256,), 0.05, 3, 0.0, 3, 0)  # same quantization: the identity
@example((256,), 0.05, -128, np.log10(2.0), 127, 0)  # exact ratio 2, extreme zero points
def test_requantize_matches_reference(shape, in_scale, in_zp, log_ratio, out_zp, seed):
    out_scale = float(np.float32(in_scale) * np.float32(10.0**log_ratio))
    model = one_op_model("QUANTIZE", shape, "int8", (in_scale, in_zp), "int8", (out_scale, out_zp))
    inputs = random_inputs(np.random.default_rng(seed), shape, 3)
    if int(np.prod(shape)) == 256:
        inputs[0] = np.arange(-128, 128, dtype=np.int8).reshape(shape)
    assert_bit_exact(model, inputs)


@settings(max_examples=30, deadline=None)
@given(shapes, st.floats(-6, 3).map(lambda e: float(10.0**e)), zero_points, st.integers(0, 2**32 - 1))
def test_dequantize_matches_reference(shape, scale, zero_point, seed):
    model = one_op_model("DEQUANTIZE", shape, "int8", (scale, zero_point), "float32", ())
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed), shape, 3))


@pytest.mark.parametrize("zero_point", [-128, 0, 127])
@pytest.mark.parametrize("scale", [0.1, 1.0 / 3.0, 7.3e-5, 123.456])
def test_dequantize_every_int8_value(scale, zero_point):
    model = one_op_model("DEQUANTIZE", (256,), "int8", (scale, zero_point), "float32", ())
    assert_bit_exact(model, np.arange(-128, 128, dtype=np.int8)[None])


def per_channel(shape):
    return ([0.1, 0.2, 0.3], [0, 0, 0], len(shape) - 1)


REJECTIONS = {
    "per-channel output": (
        one_op_model("QUANTIZE", (2, 3), "float32", (), "int8", per_channel((2, 3))), "quantized per channel"),
    "int16 output": (one_op_model("QUANTIZE", (4,), "float32", (), "int16", (0.1, 0)), "must be int8"),
    "int16 input": (
        one_op_model("QUANTIZE", (4,), "int16", (0.1, 0), "int8", (0.1, 0)), "supported: float32 or int8 input"),
    "output without quantization": (
        one_op_model("QUANTIZE", (4,), "float32", (), "int8", ()), "has no quantization parameters"),
    "zero scale": (one_op_model("QUANTIZE", (4,), "float32", (), "int8", (0.0, 0)), "must be positive and finite"),
    "zero point outside int8": (
        one_op_model("QUANTIZE", (4,), "float32", (), "int8", (0.1, 200)), r"zero point 200, outside \[-128, 127\]"),
    "shape change": (
        one_op_model("QUANTIZE", (4,), "float32", (), "int8", (0.1, 0), out_shape=(2, 2)), "differs from input shape"),
    "requantize ratio overflowing int32": (
        one_op_model("QUANTIZE", (4,), "int8", (2.0**24, 0), "int8", (1.0, 0)), "overflows the reference's int32"),
    "per-channel requantize input": (
        one_op_model("QUANTIZE", (2, 3), "int8", per_channel((2, 3)), "int8", (0.1, 0)), "quantized per channel"),
    "per-channel dequantize input": (
        one_op_model("DEQUANTIZE", (2, 3), "int8", per_channel((2, 3)), "float32", ()), "quantized per channel"),
    "int16 dequantize input": (
        one_op_model("DEQUANTIZE", (4,), "int16", (0.1, 0), "float32", ()), "input .* must be int8"),
    "int8 dequantize output": (
        one_op_model("DEQUANTIZE", (4,), "int8", (0.1, 0), "int8", (0.1, 0)), "output .* must be float32"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
