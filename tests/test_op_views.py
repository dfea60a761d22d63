"""SQUEEZE and EXPAND_DIMS: the same bytes under another shape, as RESHAPE; the reference's shape
rules (listed or all unit axes, negative axes) and the rejections."""

import numpy as np
import pytest

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

QUANT = (0.07, -5)


def squeeze_model(shape, out_shape, dims=None, out_quant=QUANT) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *QUANT)
    y = b.tensor(list(out_shape), "int8", *out_quant)
    b.op("SQUEEZE", [x], [y], options("SqueezeOptions", squeezeDims=dims) if dims is not None else None)
    return b.build([x], [y])


def expand_model(shape, axis: int, out_shape) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *QUANT)
    a = b.const([axis], "int32")
    y = b.tensor(list(out_shape), "int8", *QUANT)
    b.op("EXPAND_DIMS", [x, a], [y])
    return b.build([x], [y])


CASES = {
    "squeeze all unit axes": (squeeze_model((1, 1, 1, 7), (7,)), (1, 1, 1, 7)),
    "squeeze listed axes": (squeeze_model((1, 3, 1, 4), (1, 3, 4), dims=[2]), (1, 3, 1, 4)),
    "squeeze a negative axis": (squeeze_model((2, 1, 4, 1), (2, 1, 4), dims=[-1]), (2, 1, 4, 1)),
    "expand at the front": (expand_model((3, 4), 0, (1, 3, 4)), (3, 4)),
    "expand at the end (-1)": (expand_model((3, 4), -1, (3, 4, 1)), (3, 4)),
    "expand in the middle": (expand_model((2, 3, 4), 2, (2, 3, 1, 4)), (2, 3, 4)),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_views_match_reference(case):
    model, shape = CASES[case]
    assert_bit_exact(model, random_inputs(np.random.default_rng(0), shape, 3))


REJECTIONS = {
    "squeeze an axis of size 3": (squeeze_model((1, 3), (1,), dims=[1]), "not all of size 1"),
    "squeeze to the wrong shape": (squeeze_model((1, 3, 1), (3, 1)), "not the squeezed shape"),
    "squeeze changes the scale": (squeeze_model((1, 3), (3,), out_quant=(0.5, -5)), "share scale"),
    "expand past the rank": (expand_model((3, 4), 3, (3, 4, 1)), "axis 3 is out of range"),
    "expand to the wrong shape": (expand_model((3, 4), 0, (3, 1, 4)), "not the expanded shape"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
