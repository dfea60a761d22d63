"""STRIDED_SLICE against the reference kernels: constant begin/end/strides of ranks 1 to 4, negative
indices and strides, out-of-range indices, begin/end masks and shrunk axes; and the rejections."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

QUANT = (0.05, 9)


def sliced_shape(shape, begin, end, strides, begin_mask, end_mask, shrink_mask):
    """numpy's basic slicing, which follows the same rules as TFLite's (the test's own oracle
    for the output shape; the values come from the reference interpreter)."""
    index = []
    for axis, size in enumerate(shape):
        bit = 1 << axis
        start = None if begin_mask & bit else begin[axis]
        if shrink_mask & bit:
            index.append(range(size)[slice(start, None, strides[axis])][0])
        else:
            index.append(slice(start, None if end_mask & bit else end[axis], strides[axis]))
    return np.empty(shape)[tuple(index)].shape


def slice_model(shape, begin, end, strides, begin_mask=0, end_mask=0, shrink_mask=0, out_shape=None,
                ellipsis_mask=0) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *QUANT)
    vectors = [b.const(v, "int32") for v in (begin, end, strides)]
    if out_shape is None:
        out_shape = sliced_shape(shape, begin, end, strides, begin_mask, end_mask, shrink_mask)
    y = b.tensor(list(out_shape), "int8", *QUANT)
    b.op("STRIDED_SLICE", [x, *vectors], [y], options(
        "StridedSliceOptions", beginMask=begin_mask, endMask=end_mask, shrinkAxisMask=shrink_mask,
        ellipsisMask=ellipsis_mask))
    return b.build([x], [y])


@st.composite
def slice_cases(draw):
    shape = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    rank = len(shape)
    begin = [draw(st.integers(-size - 2, size + 1)) for size in shape]
    end = [draw(st.integers(-size - 2, size + 1)) for size in shape]
    strides = [draw(st.sampled_from([-3, -2, -1, 1, 2, 3])) for _ in shape]
    masks = [draw(st.integers(0, 2**rank - 1)) for _ in range(3)]
    return shape, begin, end, strides, masks


def supported(case) -> bool:
    shape, begin, end, strides, (begin_mask, end_mask, shrink_mask) = case
    if any(shrink_mask & (1 << axis) and stride < 0 for axis, stride in enumerate(strides)):
        return False  # refused (see the rejections)
    try:
        out = sliced_shape(shape, begin, end, strides, begin_mask, end_mask, shrink_mask)
    except IndexError:  # a shrunk axis whose index is out of range
        return False
    return 0 not in out


@settings(max_examples=40, deadline=None)
@given(slice_cases().filter(supported), st.integers(0, 2**32 - 1))
def test_strided_slice_matches_reference(case, seed):
    shape, begin, end, strides, (begin_mask, end_mask, shrink_mask) = case
    model = slice_model(shape, begin, end, strides, begin_mask, end_mask, shrink_mask)
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed), shape, 3))


REJECTIONS = {
    "ellipsis mask": (slice_model((4, 4), [0, 0], [2, 2], [1, 1], out_shape=[2, 2], ellipsis_mask=1),
                      "ellipsis and new-axis masks"),
    "zero stride": (slice_model((4, 4), [0, 0], [2, 2], [1, 0], out_shape=[2, 2]), "contain 0"),
    "wrong output shape": (slice_model((4, 4), [0, 0], [2, 2], [1, 1], out_shape=[2, 3]), "is not the slice's shape"),
    "shrunk axis with a negative stride": (
        slice_model((4, 4), [1, 0], [2, 4], [-1, 1], shrink_mask=1, out_shape=[4]), "negative stride"),
    "empty slice": (slice_model((4, 4), [2, 0], [1, 4], [1, 1], out_shape=[0, 4]), "empty slice"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
