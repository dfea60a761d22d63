"""SOFTMAX int8 against LiteRT's reference kernel (fixed-point exp, not the optimized lookup table).

Rows stay below 512 values in the generated cases: a row whose sum of exponentials reaches 512
makes the reference kernel abort the process (TFLITE_CHECK on the output exponent), so that case
is checked on the engine alone, which reports an error status instead.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.build.host_engine import HostEngine
from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact
from tflite_builder import ModelBuilder, options

# The shared ESC-10 Yamnet-256 ends with SOFTMAX (beta 1) over 10 classes.
YAMNET_SOFTMAX = {"shape": (1, 10), "in_scale": 0.12206584, "in_zp": 64, "beta": 1.0}


def softmax_model(shape, in_scale, in_zp, beta, out_scale=1 / 256, out_zp=-128, dtype="int8") -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype, in_scale, in_zp)
    y = b.tensor(list(shape), dtype, out_scale, out_zp)
    b.op("SOFTMAX", [x], [y], options("SoftmaxOptions", beta=beta))
    return b.build([x], [y])


def peaked_inputs(rng, shape, count: int) -> np.ndarray:
    """Rows with a few large values over a spread-out background, mixed with uniform rows."""
    samples = np.empty((count, *shape), dtype=np.int64)
    for sample in samples:
        low = int(rng.integers(-128, 100))
        sample[...] = rng.integers(low, min(low + int(rng.integers(1, 256)), 127), shape, endpoint=True)
        peaks = rng.random(shape) < 0.1
        sample[peaks] = rng.integers(low, 128, int(peaks.sum()))
    return np.clip(samples, -128, 127).astype(np.int8)


@st.composite
def softmax_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rank = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(1, 4), min_size=rank - 1, max_size=rank - 1)) + [draw(st.integers(1, 300))]
    # beta * input_scale from 1e-6 (flat softmax) to 100 (capped multiplier, only the maxima count).
    in_scale = float(10 ** draw(st.floats(-3, 0.5)))
    beta = float(10 ** draw(st.floats(np.log10(1e-6 / in_scale), np.log10(100 / in_scale))))
    model = softmax_model(shape, in_scale, draw(st.integers(-128, 127)), beta)
    return model, peaked_inputs(rng, tuple(shape), 4)


@settings(max_examples=50, deadline=None)
@given(softmax_cases())
def test_softmax_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


def test_yamnet_softmax_matches_reference():
    q = YAMNET_SOFTMAX
    rng = np.random.default_rng(30)
    model = softmax_model(q["shape"], q["in_scale"], q["in_zp"], q["beta"])
    outputs = assert_bit_exact(model, peaked_inputs(rng, q["shape"], 64))
    assert len(np.unique(outputs)) > 50


@pytest.mark.parametrize("beta_times_scale", [
    2.0**-26 * 1.5,  # smallest multiplier the reference accepts
    7.9, 8.0, 12.0,  # input_left_shift 30: differences down to -1 count
    16.0, 31.9,  # input_left_shift 31 without the cap
    32.0, 1000.0,  # multiplier capped at 2^31 - 1
])
def test_multiplier_edges_match_reference(beta_times_scale):
    rng = np.random.default_rng(31)
    model = softmax_model((3, 40), 0.5, 0, beta_times_scale / 0.5)
    assert_bit_exact(model, peaked_inputs(rng, (3, 40), 8))


def test_many_classes_match_reference():
    """1001 classes whose exponentials sum well below 512, as in an image classifier's head."""
    rng = np.random.default_rng(32)
    model = softmax_model((2, 1001), 0.1, -30, 1.0)
    assert_bit_exact(model, rng.integers(-128, -27, (4, 2, 1001)).astype(np.int8))


def test_output_scale_within_tflite_tolerance_matches_reference():
    rng = np.random.default_rng(33)
    model = softmax_model((2, 17), 0.05, 3, 1.0, out_scale=(1 / 256) * (1 + 0.0009))
    assert_bit_exact(model, peaked_inputs(rng, (2, 17), 4))


def compile_model(model: bytes):
    return compile_graph(parse_model(model, "softmax.tflite"), "softmax")


def test_sum_of_exponentials_beyond_reference_range_fails_at_run_time():
    engine = HostEngine.build(compile_model(softmax_model((1, 600), 0.1, 0, 1.0)))
    with pytest.raises(HilError, match="failed with status 3"):
        engine.run(np.zeros((1, 1, 600), dtype=np.int8))


@pytest.mark.parametrize("kwargs, message", [
    ({"out_zp": 0}, "zero point 0 .*supported: scale 1/256 and zero point -128"),
    ({"out_scale": 1 / 128}, "scale 0.0078125 .*supported: scale 1/256"),
    ({"out_scale": (1 / 256) * 1.002}, "supported: scale 1/256"),
    ({"beta": 0.0}, "beta 0 with input scale 0.1 is not supported"),
    ({"beta": -1.0}, "beta -1 with input scale 0.1 is not supported"),
    ({"shape": (1, 4096)}, "softmax over 4096 values is not supported"),
    ({"dtype": "int16", "out_zp": 0, "out_scale": 1 / 32768}, "input tensor .* must be int8"),
])
def test_rejections(kwargs, message):
    args = {"shape": (1, 10), "in_scale": 0.1, "in_zp": 0, "beta": 1.0}
    args.update(kwargs)
    with pytest.raises(HilError, match=message):
        compile_model(softmax_model(**args))
