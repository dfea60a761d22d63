"""MEAN against the reference kernels: ranks 1-4, any axes, keep_dims, same or different quantization.

For int8 LiteRT's reference resolver always runs QuantizedMeanOrSum (the 4-D axes-(1, 2) special
case is an optimized-kernel path only), so one kernel serves every axis set.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.compiler.ops.mean import RUNS, loop_nest, lower_mean
from harness.errors import HilError

from engine_check import assert_bit_exact
from tflite_builder import ModelBuilder, options

# The shared ESC-10 Yamnet-256: global average pooling as MEAN over axes (1, 2) of (1, 12, 8, 256).
YAMNET_MEAN = {"shape": (1, 12, 8, 256), "axes": (1, 2), "in_scale": 0.03767394, "in_zp": -128,
               "out_scale": 0.01013207, "out_zp": -128}


def output_shape(shape, axes, keep_dims):
    resolved = {a % len(shape) for a in axes}
    if keep_dims:
        return [1 if i in resolved else d for i, d in enumerate(shape)]
    return [d for i, d in enumerate(shape) if i not in resolved]


def mean_model(shape, axes, keep_dims, in_scale, in_zp, out_scale, out_zp) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", in_scale, in_zp)
    axes_tensor = b.const(np.asarray(axes, dtype=np.int32), "int32")
    y = b.tensor(output_shape(shape, axes, keep_dims), "int8", out_scale, out_zp)
    b.op("MEAN", [x, axes_tensor], [y], options("ReducerOptions", keepDims=keep_dims))
    return b.build([x], [y])


def varied_inputs(rng, shape, axes, count: int) -> np.ndarray:
    """Inputs whose averages differ from one output to the next: a random level per kept
    position plus noise along the reduced axes, mixed with plain uniform samples."""
    level_shape = [1 if i in {a % len(shape) for a in axes} else d for i, d in enumerate(shape)]
    samples = []
    for _ in range(count):
        if rng.random() < 0.25:
            samples.append(rng.integers(-128, 128, shape))
            continue
        level = rng.uniform(-140, 140, level_shape)
        samples.append(np.rint(level + rng.normal(0, rng.uniform(0, 60), shape)))
    return np.clip(np.stack(samples), -128, 127).astype(np.int8)


@st.composite
def mean_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rank = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank))
    chosen = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    # Axes as a model may spell them: negative forms and repeats included.
    axes = [a - rank if draw(st.booleans()) else a for a in chosen]
    if draw(st.booleans()):
        axes.append(axes[0])
    in_scale = float(10 ** draw(st.floats(-3, 0)))
    in_zp = draw(st.integers(-128, 127))
    if draw(st.booleans()):
        out_scale, out_zp = in_scale, in_zp  # the same quantization: no shortcut in the reference
    else:
        out_scale, out_zp = in_scale * float(10 ** draw(st.floats(-1.5, 1.5))), draw(st.integers(-128, 127))
    model = mean_model(shape, axes, draw(st.booleans()), in_scale, in_zp, out_scale, out_zp)
    return model, varied_inputs(rng, shape, axes, 6)


@settings(max_examples=50, deadline=None)
@given(mean_cases())
def test_mean_matches_reference(case):
    model, inputs = case
    assert_bit_exact(model, inputs)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 1, 4, 5), (1, 3, 1, 5), (3, 5), (7,)])
def test_every_axis_set_of_rank_4_or_less_is_two_runs_of_each_kind(shape):
    """hil_mean.h's two loops per nest: kept and reduced runs alternate once merged."""
    rank = len(shape)
    for mask in range(2**rank):
        reduced = [a for a in range(rank) if mask >> a & 1]
        kept = [a for a in range(rank) if a not in reduced]
        for axes in (kept, reduced):
            sizes, strides = loop_nest(shape, axes)
            assert len(sizes) == len(strides) == RUNS
            offsets = [0]  # the positions the nest visits, in order, against those of the axes themselves
            for size, stride in zip(sizes, strides):
                offsets = [o + i * stride for o in offsets for i in range(size)]
            expected = [0]
            for axis in axes:
                step = int(np.prod(shape[axis + 1:]))
                expected = [o + i * step for o in expected for i in range(shape[axis])]
            assert offsets == expected


@pytest.mark.parametrize("keep_dims", [False, True])
@pytest.mark.parametrize("same_quantization", [False, True])
def test_yamnet_global_average_matches_reference(keep_dims, same_quantization):
    q = dict(YAMNET_MEAN)
    if same_quantization:
        q.update(out_scale=q["in_scale"], out_zp=q["in_zp"])
    model = mean_model(q["shape"], q["axes"], keep_dims, q["in_scale"], q["in_zp"], q["out_scale"], q["out_zp"])
    rng = np.random.default_rng(20)
    outputs = assert_bit_exact(model, varied_inputs(rng, q["shape"], q["axes"], 6))
    assert len(np.unique(outputs)) > 50  # the averages really vary across channels


def test_large_reductions_match_reference():
    """Counts that are not powers of two, and one above 2^15 (the multiplier fold is capped)."""
    rng = np.random.default_rng(21)
    for shape, axes in [((3, 50, 70, 2), (1, 2)), ((1, 260, 130, 1), (1, 2, 3)), ((5, 7, 9, 11), (0, 3))]:
        model = mean_model(shape, axes, False, 0.05, 7, 0.002, -100)
        assert_bit_exact(model, varied_inputs(rng, shape, axes, 3))


def test_extreme_scale_ratios_match_reference():
    rng = np.random.default_rng(22)
    for in_scale, out_scale in [(1e-4, 1.0), (1.0, 1e-4), (0.5, 0.5 + 1e-7)]:
        model = mean_model((2, 6, 6, 3), (1, 2), True, in_scale, 0, out_scale, 0)
        assert_bit_exact(model, varied_inputs(rng, (2, 6, 6, 3), (1, 2), 4))


def test_no_axes_requantizes_every_value_like_reference():
    rng = np.random.default_rng(23)
    model = mean_model((2, 5, 3), np.zeros(0, dtype=np.int32), False, 0.1, 3, 0.05, -7)
    assert_bit_exact(model, rng.integers(-128, 128, (4, 2, 5, 3)).astype(np.int8))


def compile_model(model: bytes):
    return compile_graph(parse_model(model, "mean.tflite"), "mean")


@pytest.mark.parametrize("shape, axes, out_shape, scales, message", [
    ((1, 2, 3, 4, 5), (1,), (1, 3, 4, 5), (0.1, 0.1), "rank 1 to 4"),
    ((2, 3), (2,), (2, 3), (0.1, 0.1), "axis 2 is out of range for an input of rank 2"),
    ((2, 3), (1,), (2, 1), (0.1, 0.1), r"output shape \[2, 1\] does not match the expected \[2\]"),
    ((2, 3), (1,), (2,), (1.0, 1e-9), "scale ratio .* is not supported"),
    ((1, 4096, 4096), (1, 2), (1,), (0.1, 0.1), "averaging 16777216 values is not supported"),
])
def test_rejections(shape, axes, out_shape, scales, message):
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", scales[0], 0)
    axes_tensor = b.const(np.asarray(axes, dtype=np.int32), "int32")
    y = b.tensor(list(out_shape), "int8", scales[1], 0)
    b.op("MEAN", [x, axes_tensor], [y], options("ReducerOptions", keepDims=False))
    graph = parse_model(b.build([x], [y]), "mean.tflite")
    with pytest.raises(HilError, match=message):
        lower_mean(graph.operators[0], graph)


def test_axes_computed_at_run_time_are_rejected():
    b = ModelBuilder()
    x = b.tensor([2, 3], "int8", 0.1, 0)
    axes_tensor = b.tensor([1], "int32")
    y = b.tensor([2], "int8", 0.1, 0)
    b.op("MEAN", [x, axes_tensor], [y], options("ReducerOptions"))
    graph = parse_model(b.build([x, axes_tensor], [y]), "mean.tflite")
    with pytest.raises(HilError, match="must be a constant int32 tensor"):
        lower_mean(graph.operators[0], graph)


def test_non_int8_input_is_rejected():
    b = ModelBuilder()
    x = b.tensor([2, 3], "int16", 0.1, 0)
    axes_tensor = b.const([1], "int32")
    y = b.tensor([2], "int16", 0.1, 0)
    b.op("MEAN", [x, axes_tensor], [y], options("ReducerOptions"))
    with pytest.raises(HilError, match="input tensor .* must be int8"):
        compile_model(b.build([x], [y]))
