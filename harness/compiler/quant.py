"""Compile-time quantization arithmetic, done exactly as TFLite's kernels prepare it.

Each function mirrors a TFLite helper's floating-point steps (which operations run in
float32, which in double, how ties round), because one ulp here is one LSB on the device.
"""

from __future__ import annotations

import math

import numpy as np

from harness.errors import HilError

INT8_MIN, INT8_MAX = -128, 127

# Fused activation codes of the TFLite schema (ActivationFunctionType).
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3
ACTIVATION_NAMES = {ACT_NONE: "NONE", ACT_RELU: "RELU", ACT_RELU_N1_TO_1: "RELU_N1_TO_1", ACT_RELU6: "RELU6"}
SUPPORTED_ACTIVATIONS = (ACT_NONE, ACT_RELU, ACT_RELU6)


def round_half_away(value: float) -> int:
    """std::round: ties go away from zero (Python's round() goes to even)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """Split a positive real multiplier into a Q31 significand and a power-of-two shift.

    Same steps as TFLite's QuantizeMultiplier in the double-rounding build that LiteRT ships:
    frexp, round the significand to 31 bits, renormalise on overflow, flush tiny values to
    zero. (Only the single-rounding build saturates shifts above 30; this one does not.)
    """
    if real_multiplier == 0.0:
        return 0, 0
    if real_multiplier < 0.0 or not math.isfinite(real_multiplier):
        raise HilError(f"quantization multiplier {real_multiplier} is not a positive finite number")
    significand, shift = math.frexp(real_multiplier)
    fixed = round_half_away(significand * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """Clamp bounds of a fused activation in the int8 output domain (float32 math, like TFLite)."""
    def quantize(real: float) -> int:
        return int(zero_point) + round_half_away(float(np.float32(real) / np.float32(scale)))

    if activation == ACT_NONE:
        return INT8_MIN, INT8_MAX
    if activation == ACT_RELU:
        return max(INT8_MIN, quantize(0.0)), INT8_MAX
    if activation == ACT_RELU6:
        return max(INT8_MIN, quantize(0.0)), min(INT8_MAX, quantize(6.0))
    if activation == ACT_RELU_N1_TO_1:
        return max(INT8_MIN, quantize(-1.0)), min(INT8_MAX, quantize(1.0))
    raise HilError(f"fused activation {activation} is not supported")


def per_channel_multipliers(
    input_scale: float, filter_scales: np.ndarray, output_scale: float, channels: int
) -> tuple[list[int], list[int]]:
    """Multiplier and shift for each output channel, input*filter/output in double precision.

    A per-tensor filter scale is broadcast to every channel, as TFLite does for int8 kernels.
    """
    scales = np.broadcast_to(np.asarray(filter_scales, dtype=np.float32).reshape(-1), (channels,))
    multipliers, shifts = [], []
    for filter_scale in scales:
        effective = float(np.float32(input_scale)) * float(filter_scale) / float(np.float32(output_scale))
        multiplier, shift = quantize_multiplier(effective)
        multipliers.append(multiplier)
        shifts.append(shift)
    return multipliers, shifts
