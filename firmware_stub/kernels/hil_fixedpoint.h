/*
 * Integer requantization with the exact rounding of the TFLite reference kernels
 * (gemmlowp's SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT).
 * Shifts of negative values are arithmetic, as on every compiler this project supports.
 */
#ifndef HIL_FIXEDPOINT_H
#define HIL_FIXEDPOINT_H

#include <stdint.h>

/* round(a * b / 2^31), saturating the single overflow case INT32_MIN * INT32_MIN. */
static inline int32_t hil_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31]. */
static inline int32_t hil_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift, multiplier in Q31; shift > 0 shifts left before the multiply. */
static inline int32_t hil_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left_shift = shift > 0 ? (int)shift : 0;
    const int right_shift = shift > 0 ? 0 : (int)-shift;
    /* The reference multiplies in int32 and wraps on overflow; do it without undefined behaviour. */
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return hil_rounding_divide_by_pot(hil_sat_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

static inline int32_t hil_clamp(int32_t value, int32_t lo, int32_t hi)
{
    return value < lo ? lo : (value > hi ? hi : value);
}

#endif /* HIL_FIXEDPOINT_H */
