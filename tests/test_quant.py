"""Compile-time quantization arithmetic against hand-worked values of TFLite's rules."""

import math

import pytest

from harness.compiler.quant import (
    ACT_NONE,
    ACT_RELU,
    ACT_RELU6,
    activation_range,
    per_channel_multipliers,
    quantize_multiplier,
    round_half_away,
)


@pytest.mark.parametrize("value, expected", [(0.5, 1), (-0.5, -1), (1.5, 2), (2.5, 3), (-2.5, -3), (0.49999, 0)])
def test_round_half_away_from_zero(value, expected):
    assert round_half_away(value) == expected


def test_quantize_multiplier_of_a_power_of_two():
    assert quantize_multiplier(0.25) == (1 << 30, -1)
    assert quantize_multiplier(1.0) == (1 << 30, 1)


def test_quantize_multiplier_renormalises_when_the_significand_rounds_up():
    just_below_one = 1.0 - 2.0**-40
    assert quantize_multiplier(just_below_one) == (1 << 30, 1)


def test_quantize_multiplier_keeps_shifts_above_30():
    """The double-rounding build (LiteRT's) saturates nothing; softmax reaches shift 31."""
    multiplier, shift = quantize_multiplier(2.0**31 - 1.0)
    assert (multiplier, shift) == (2**31 - 1, 31)


def test_quantize_multiplier_flushes_tiny_values_to_zero():
    assert quantize_multiplier(2.0**-40) == (0, 0)
    assert quantize_multiplier(0.0) == (0, 0)


def test_quantize_multiplier_reconstructs_the_value():
    for real in (0.000123, 0.0071, 0.33, 0.9999, 1.7, 123.4):
        multiplier, shift = quantize_multiplier(real)
        assert math.isclose(multiplier * 2.0 ** (shift - 31), real, rel_tol=2**-30)


def test_activation_ranges():
    assert activation_range(ACT_NONE, 0.1, 5) == (-128, 127)
    assert activation_range(ACT_RELU, 0.1, 5) == (5, 127)
    assert activation_range(ACT_RELU6, 0.1, -128) == (-128, -68)
    assert activation_range(ACT_RELU6, 0.01, 0) == (0, 127)


def test_per_tensor_filter_scale_is_broadcast_to_every_channel():
    multipliers, shifts = per_channel_multipliers(0.5, [0.25], 1.0, 3)
    assert multipliers == [1 << 30] * 3 and shifts == [-2] * 3
