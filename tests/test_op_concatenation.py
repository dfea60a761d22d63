"""CONCATENATION against the reference kernels: any axis (negative too) of ranks 1 to 4, one to four
inputs mixing the model's input, a branch computed from it and constants; and the rejections,
among them inputs quantized unlike the output, which TFLite's int8 kernel refuses as well."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder, options

QUANT = (0.04, -6)


def concat_model(shape, axis: int, sources, seed: int = 0, const_quant=QUANT, out_shape=None) -> bytes:
    """sources: per input, "input" (the model's input), "branch" (RELU of it) or a constant's size
    along the axis."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *QUANT)
    operands, along = [], 0
    for source in sources:
        if source == "input":
            operands.append(x)
            along += shape[axis]
        elif source == "branch":
            relu = b.tensor(list(shape), "int8", *QUANT)
            b.op("RELU", [x], [relu])
            operands.append(relu)
            along += shape[axis]
        else:
            const_shape = list(shape)
            const_shape[axis] = source
            operands.append(b.const(rng.integers(-128, 128, const_shape), "int8",
                                    scale=const_quant[0], zero_point=const_quant[1]))
            along += source
    concat_shape = list(shape)
    concat_shape[axis] = along
    y = b.tensor(out_shape or concat_shape, "int8", *QUANT)
    b.op("CONCATENATION", operands, [y], options("ConcatenationOptions", axis=axis))
    return b.build([x], [y])


@st.composite
def concat_cases(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sources = draw(st.lists(st.one_of(st.sampled_from(["input", "branch"]), st.integers(1, 3)), min_size=1, max_size=4))
    if not any(s in ("input", "branch") for s in sources):
        sources.append("input")
    return shape, axis, sources


@settings(max_examples=30, deadline=None)
@given(concat_cases(), st.integers(0, 2**32 - 1))
def test_concatenation_matches_reference(case, seed):
    shape, axis, sources = case
    assert_bit_exact(concat_model(shape, axis, sources, seed), random_inputs(np.random.default_rng(seed), shape, 3))


def test_branches_joined_on_channels():
    """The inception-style join: the input and a branch side by side on the channel axis."""
    model = concat_model((1, 6, 5, 4), 3, ["input", "branch", 2])
    assert_bit_exact(model, random_inputs(np.random.default_rng(1), (1, 6, 5, 4), 3))


REJECTIONS = {
    "an input quantized unlike the output": (concat_model((2, 3), 1, ["input", 2], const_quant=(0.08, -6)),
                                             "must share scale and zero point"),
    "sizes that do not add up": (concat_model((2, 3), 1, ["input", 2], out_shape=[2, 6]), "do not add up"),
    "an input of another shape": (concat_model((2, 3), 0, ["input", 2], out_shape=[4, 4]), "does not fit"),
}


@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_rejections_explain_themselves(case):
    model, message = REJECTIONS[case]
    with pytest.raises(HilError, match=message):
        compile_graph(parse_model(model, "rejected.tflite"), "rejected")
