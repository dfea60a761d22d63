"""The added operators on qemu-m33 (the firmware built for the emulated Cortex-M33, inputs over its
UART): a bounded set of representative cases per operator, each one boot, against the reference.
The property tests (tests/test_op_*.py) explore shapes and quantizations on the host, where a case
costs milliseconds; the kernels are the same C, built for the target."""

import numpy as np
import pytest
from emulator_check import assert_bit_exact_on_emulator, needs_emulator
from test_op_activation import ALL_INT8, LOGISTIC_OUTPUT, activation_model
from test_op_concatenation import concat_model
from test_op_mul import RELU6, const_mul_model, gate_model
from test_op_pad import pad_model
from test_op_strided_slice import slice_model
from test_op_views import expand_model, squeeze_model

from engine_check import random_inputs
from tflite_builder import binary_with_constant

pytestmark = needs_emulator


def batch(shape, count: int = 3, seed: int = 0) -> np.ndarray:
    return random_inputs(np.random.default_rng(seed), shape, count)


CASES = {
    "PAD 4-D, every side": (pad_model((1, 6, 5, 3), [(0, 0), (1, 2), (2, 1), (0, 1)], (0.05, -3)), batch((1, 6, 5, 3))),
    "PADV2 rank 2, given value": (pad_model((3, 4), [(2, 0), (1, 3)], (0.2, 9), value=-77), batch((3, 4))),
    "MUL per-channel constant": (
        const_mul_model(((1, 4, 3, 8), (8,)), [(0.02, 4), (0.01, -9), (0.001, 0)], RELU6), batch((1, 4, 3, 8))),
    "MUL scalar, multiplier above 1": (
        const_mul_model(((2, 3, 4), ()), [(0.1, -128), (0.01, 127), (1e-4, 0)]), batch((2, 3, 4))),
    "MUL by a squeeze-and-excitation gate": (
        gate_model(3, 4, 6, [(0.05, 2), (0.03, -1), (0.02, 5)], True, 0), batch((1, 3, 4, 6))),
    **{
        f"{kind} over all int8 values": (
            activation_model(kind, (0.07, -11), LOGISTIC_OUTPUT if kind == "LOGISTIC" else (0.05, 20)),
            ALL_INT8[None, None])
        for kind in ("RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "HARD_SWISH")
    },
    "SUB broadcast, constant first": (
        binary_with_constant("SUB", ((3,), (2, 4, 3)), [(0.03, 7), (0.05, -2), (0.06, -9)], RELU6, const_side=0),
        batch((2, 4, 3))),
    "SUB same shapes": (
        binary_with_constant("SUB", ((2, 5, 3), (2, 5, 3)), [(0.5, -128), (0.01, 127), (0.2, 0)]), batch((2, 5, 3))),
    "CONCATENATION on channels, a branch and a constant": (
        concat_model((1, 4, 3, 5), 3, ["input", "branch", 2]), batch((1, 4, 3, 5))),
    "CONCATENATION on axis 1": (concat_model((2, 3, 4), -2, [2, "input", "input"]), batch((2, 3, 4))),
    "STRIDED_SLICE backwards, masks": (
        slice_model((2, 6, 5, 4), [0, -1, 1, 0], [2, 0, 5, 4], [1, -2, 2, 1], begin_mask=1, end_mask=8),
        batch((2, 6, 5, 4))),
    "STRIDED_SLICE shrinking an axis": (slice_model((3, 4, 5), [1, 0, 1], [2, 4, 5], [1, 1, 3], shrink_mask=1),
                                       batch((3, 4, 5))),
    "SQUEEZE": (squeeze_model((1, 3, 1, 4), (3, 4)), batch((1, 3, 1, 4))),
    "EXPAND_DIMS": (expand_model((3, 4), 1, (3, 1, 4)), batch((3, 4))),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_matches_reference_on_qemu_m33(case):
    model, inputs = CASES[case]
    assert_bit_exact_on_emulator(model, inputs)
