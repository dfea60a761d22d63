"""TRANSPOSE: any permutation of ranks 1 to 6, unit axes included (the kernel leaves them out of its
walk), equal to the reference byte for byte on both kernel paths."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_check import assert_bit_exact, random_inputs
from tflite_builder import ModelBuilder

QUANT = (0.04, 9)


def transpose_model(shape, perm) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), "int8", *QUANT)
    p = b.const(list(perm), "int32")
    y = b.tensor([shape[axis] for axis in perm], "int8", *QUANT)
    b.op("TRANSPOSE", [x, p], [y])
    return b.build([x], [y])


@st.composite
def transposes(draw):
    rank = draw(st.integers(1, 6))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    perm = tuple(draw(st.permutations(range(rank))))
    return shape, perm


@settings(max_examples=30, deadline=None)
@given(transposes(), st.integers(0, 2**32 - 1))
def test_transpose_matches_reference(case, seed):
    shape, perm = case
    assert_bit_exact(transpose_model(shape, perm), random_inputs(np.random.default_rng(seed), shape, 2))


def test_audio_input_transpose_matches_reference():
    """The shared model's first layer: [1, 64, 96, 1] -> [1, 96, 64, 1], unit axes at both ends."""
    shape = (1, 64, 96, 1)
    assert_bit_exact(transpose_model(shape, (0, 2, 1, 3)), random_inputs(np.random.default_rng(1), shape, 2))
