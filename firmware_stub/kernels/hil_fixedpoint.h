/*
 * Integer requantization with the exact rounding of the TFLite reference kernels
 * (gemmlowp's SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT).
 * Shifts of negative values are arithmetic, as on every compiler this project supports.
 */
#ifndef HIL_FIXEDPOINT_H
#define HIL_FIXEDPOINT_H

#include <stdint.h>

#include "hil_dsp.h"

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

/*
 * Bounded requantization: the same value as hil_multiply_by_quantized_multiplier(x, multiplier,
 * shift) in a handful of instructions, for the accumulators of kernels whose range the compiler
 * has proven: |x << max(shift, 0)| < 2^30, multiplier in [0, 2^31) (all that TFLite's
 * QuantizeMultiplier produces), shift in [-31, 30].
 *
 * Why it is equal. Let x' = x << max(shift, 0) and e = max(-shift, 0). The reference's first
 * step (SaturatingRoundingDoublingHighMul: a rounding nudge and a truncating division, for
 * products of either sign) is q = floor((x' * multiplier + 2^30) / 2^31), which is
 * floor((2x' * multiplier + 2^31) / 2^32): SMMULR of 2x' (an int32, as |x'| < 2^30) and the
 * multiplier (hil_requant_high); it never saturates (multiplier >= 0), and |q| < 2^30.
 * Its second step (RoundingDivideByPOT: round half away from zero) is q for e = 0, else
 * floor((q - s + 2^(e-1)) / 2^e), s = 1 if q < 0 (the remainder q mod 2^e rounds up exactly when
 * it exceeds 2^(e-1) - 1 + s). Nested floor divisions compose, so for e >= 1 the result plus the
 * output offset is floor((t + 1 + 2 * offset) / 2) with t = floor((q - s) / 2^(e-1)): the kernels
 * compute v = t + (2 * offset + 1) (hil_requant_twice, |v| < 2^30) and take v >> 1, which the
 * saturation to int8 does for free (SSAT #8 with ASR #1).
 * The fused form (hil_requant_fused) takes s' = 1 if x < 0 instead of s: they differ only when
 * x < 0 and q = 0 (x >= 0 gives q >= 0, x < 0 gives q <= 0, as multiplier >= 0), where t = 0
 * becomes t = -1 and floor((t + 1 + 2 * offset) / 2) is the offset either way. It adds the odd
 * term C = (2 * offset + 1) * 2^(e-1) inside SMMLAR (C + q, exact: C is a multiple of 2^(e-1),
 * so floor((q - s' + C) / 2^(e-1)) = t + 2 * offset + 1) and subtracts s' as x's sign word
 * (ADD with ASR #31): |q| <= 2^30 and |C| < 2^30 for e <= 23, so nothing wraps.
 * tests/test_requantize.py checks the identities over the bounded domain's edges and at random.
 */

/* q: the doubling high multiply of x << max(shift, 0); left = max(shift, 0) + 1. */
static inline int32_t hil_requant_high(int32_t x, int32_t multiplier, int32_t left)
{
    return hil_smmulr((int32_t)((uint32_t)x << left), multiplier);
}

/* For e = -shift >= 1: 2 * (RoundingDivideByPOT(q, e) + offset) + 0 or 1, given 2 * offset + 1. */
static inline int32_t hil_requant_twice(int32_t q, int32_t e, int32_t twice_offset_plus_1)
{
    return ((q - (int32_t)((uint32_t)q >> 31)) >> (e - 1)) + twice_offset_plus_1;
}

/* The largest e = -shift of the fused form (hil_requant_fused): |C| < 2^30 (see above). */
#define HIL_REQUANT_FUSED_MAX_SHIFT 23

/* C = (2 * offset + 1) * 2^(e-1), the fused form's term: one per channel. e in [1, 23]. */
static inline int32_t hil_requant_fused_term(int32_t e, int32_t output_offset)
{
    return (2 * output_offset + 1) * (int32_t)(1u << (e - 1));
}

/* hil_requant_twice(hil_requant_high(x, multiplier, 1), e, 2 * offset + 1) from doubled = x << 1
 * and C = hil_requant_fused_term(e, offset): SMMLAR, ADD (ASR #31) and ASR. e in [1, 23]. */
static inline int32_t hil_requant_fused(int32_t doubled, int32_t multiplier, int32_t e, int32_t term)
{
    return (hil_smmlar(doubled, multiplier, term) + (doubled >> 31)) >> (e - 1);
}

/* The requantized value alone (offset 0), as the reference computes it. */
static inline int32_t hil_requantize_bounded(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift >= 0) {
        return hil_requant_high(x, multiplier, shift + 1);
    }
    return hil_requant_twice(hil_requant_high(x, multiplier, 1), -shift, 1) >> 1;
}

static inline int32_t hil_clamp(int32_t value, int32_t lo, int32_t hi)
{
    return value < lo ? lo : (value > hi ? hi : value);
}

/*
 * The packed kernels' int8 output from twice a bounded accumulator (x << 1: the doubling
 * hil_requant_high starts with, which a kernel may have folded into its sums) and the
 * requantization's `left` = shift + 1 or 1 applied from there. `uniform` (a constant where it is
 * called): every shift in [-HIL_REQUANT_FUSED_MAX_SHIFT, -1] and the clamp the int8 range; then
 * the fused form: SMMLAR, ADD, ASR and SSAT #8 with ASR #1, no branch.
 */
static inline int8_t hil_requantize_doubled(int32_t doubled, int32_t multiplier, int32_t shift, int32_t output_offset,
                                            int32_t act_min, int32_t act_max, int uniform)
{
    const int32_t twice_offset_plus_1 = 2 * output_offset + 1;
    if (uniform) {
        const int32_t term = hil_requant_fused_term(-shift, output_offset);
        return (int8_t)hil_ssat8(hil_requant_fused(doubled, multiplier, -shift, term) >> 1);
    }
    int32_t value;
    if (shift < 0) {
        /* Twice the output, plus 0 or 1, halved. */
        value = hil_requant_twice(hil_requant_high(doubled, multiplier, 0), -shift, twice_offset_plus_1) >> 1;
    } else {
        value = hil_requant_high(doubled, multiplier, shift) + output_offset;
    }
    return (int8_t)hil_clamp(value, act_min, act_max);
}

#endif /* HIL_FIXEDPOINT_H */
