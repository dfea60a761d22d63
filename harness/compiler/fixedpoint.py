"""TFLite's integer helpers (gemmlowp fixed point) in Python, for tables the compiler computes.

An int8 operator of one input is a function of 256 values: the compiler evaluates the
reference kernel's integer arithmetic once per value and the device looks the result up. Each
helper here follows its C counterpart's types: int32 and int16 wrap and saturate where the C
does, divisions truncate toward zero, shifts of negative values are arithmetic.
"""

from __future__ import annotations

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def wrap32(value: int) -> int:
    """Two's-complement int32 of an integer (what an overflowing int32 product holds)."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def c_div(numerator: int, denominator: int) -> int:
    """C integer division: truncation toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def saturate(value: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, value))


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """x / 2^exponent, rounded to nearest, ties away from zero."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def doubling_high_mul(a: int, b: int, bits: int) -> int:
    """SaturatingRoundingDoublingHighMul for int32 (bits=32) or int16 (bits=16)."""
    lowest = -(1 << (bits - 1))
    if a == lowest and b == lowest:
        return (1 << (bits - 1)) - 1
    product = a * b
    nudge = (1 << (bits - 2)) if product >= 0 else 1 - (1 << (bits - 2))
    return c_div(product + nudge, 1 << (bits - 1))


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier (double rounding): x * multiplier * 2^shift."""
    shifted = wrap32(x * (1 << max(shift, 0)))
    return rounding_divide_by_pot(doubling_high_mul(shifted, multiplier, 32), max(-shift, 0))
