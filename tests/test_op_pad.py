"""PAD and PADV2 against the reference kernels: any padding of ranks 1 to 4 (zero amounts, one
side only, every dimension), the zero point or a given value as the fill; plus the rejections."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder


def pad_model(shape, paddings, quant=(0.05, 3), value=None, dtype="int32", out_quant=None, out_shape=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *quant)
    pads = b.const(np.asarray(paddings).reshape(len(shape), 2), dtype)
    padded = out_shape or [d + sum(p) for d, p in zip(shape, paddings)]
    y = b.tensor(list(padded), "int8", *(out_quant or quant))
    if value is None:
        b.op("PAD", [x, pads], [y])
    else:
        fill = b.const(np.array([value]), "int8", scale=quant[0], zero_point=quant[1])
        b.op("PADV2", [x, pads, fill], [y])
    return b.build([x], [y])


@st.composite
def pad_cases(draw):
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    paddings = [(draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in shape]
    quant = (float(10.0 ** draw(st.floats(-3, 1))), draw(st.integers(-128, 127)))
    value = draw(st.one_of(st.none(), st.integers(-128, 127)))
    dtype = draw(st.sampled_from(["int32", "int64"]))
    return shape, paddings, quant, value, dtype


@settings(max_examples=30, deadline=None)
@given(pad_cases(), st.integers(0, 2**32 - 1))
def test_pad_matches_reference(case, seed):
    shape, paddings, quant, value, dtype = case
    model = pad_model(shape, paddings, quant, value, dtype)
    assert_bit_exact(model, random_inputs(np.random.default_rng(seed), shape, 3))


def test_resnet_style_spatial_padding():
    """The shape of the audio ResNets' first layers: 1 row and column on each side of a 64x50 map."""
    model = pad_model((1, 64, 50, 8), [(0, 0), (1, 1), (1, 1), (0, 0)], quant=(0.1, -128))
    assert_bit_exact(model, random_inputs(np.random.default_rng(3), (1, 64, 50, 8), 2))


REJECTIONS = {
    "negative padding": (pad_model((2, 3), [(0, 0), (-1, 2)], out_shape=[2, 4]), "negative amount"),
    "output quantized differently": (pad_model((2, 3), [(1, 1), (0, 0)], out_quant=(0.1, 3)), "share scale"),
    "wrong output shape": (pad_model((2, 3), [(1, 1), (0, 0)], out_shape=[4, 4]), "is not the padded shape"),
    "rank 5": (pad_model((1, 1, 1, 2, 3), [(0, 0)] * 5), "rank 5"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
