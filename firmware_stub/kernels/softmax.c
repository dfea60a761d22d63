#include "hil_softmax.h"

#include <stddef.h>

#include "hil_fixedpoint.h"

/*
 * Fixed-point formats (gemmlowp's): Qm.n is an int32 with m integer bits, raw = real * 2^(31-m).
 * The input of exp is Q5.26, exp and the reciprocal are Q0.31, the running sum is Q12.19.
 */
#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12
#define OUTPUT_BITS 8
#define Q0_ONE INT32_MAX           /* 1.0 is not representable in Q0.31: its nearest value */
#define Q2_ONE ((int32_t)1 << 29)  /* 1.0 in Q2.29 */

static int32_t mul(int32_t a, int32_t b)
{
    return hil_sat_rounding_doubling_high_mul(a, b);
}

/* x * 2^exponent, saturating, exponent in [1, 30]: gemmlowp's SaturatingRoundingMultiplyByPOT. */
static int32_t saturating_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = ((int32_t)1 << (31 - exponent)) - 1;
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31: Taylor expansion around -1/8. */
static int32_t exp_on_interval_to_zero(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + ((int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = mul(x, x);
    const int32_t x3 = mul(x2, x);
    const int32_t x4 = mul(x2, x2);
    const int32_t x4_over_4 = hil_rounding_divide_by_pot(x4, 2);
    const int32_t polynomial = hil_rounding_divide_by_pot(mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + mul(exp_minus_one_eighth, x + polynomial);
}

/* exp(a) for a <= 0 in Q5.26, result Q0.31: exp of the remainder modulo 1/4, times exp(-2^k). */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t exp_of_minus_power_of_two[] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1) */
        290630308,  /* exp(-2) */
        39332535,   /* exp(-4) */
        720401,     /* exp(-8) */
        242,        /* exp(-16) */
    };
    const int fractional_bits = 31 - SCALED_DIFF_INTEGER_BITS;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    /* Q5.26 -> Q0.31; in [-1/4, 0) the saturation never triggers. */
    const int32_t in_q0 = saturating_shift_left(a_mod_quarter_minus_quarter, SCALED_DIFF_INTEGER_BITS);
    int32_t result = exp_on_interval_to_zero(in_q0);
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    const int steps = (int)(sizeof exp_of_minus_power_of_two / sizeof exp_of_minus_power_of_two[0]);
    for (int k = 0; k < steps; ++k) {
        if ((remainder & ((int32_t)1 << (fractional_bits - 2 + k))) != 0) {
            result = mul(result, exp_of_minus_power_of_two[k]);
        }
    }
    return a == 0 ? Q0_ONE : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out: three Newton-Raphson steps in Q2.29. */
static int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int64_t sum = (int64_t)a + Q0_ONE;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* rounding half sum */
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    int32_t x = constant_48_over_17 + mul(half_denominator, constant_neg_32_over_17);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = Q2_ONE - mul(half_denominator, x);
        x = x + saturating_shift_left(mul(x, one_minus_half_denominator_times_x), 2);
    }
    return saturating_shift_left(x, 1); /* x / 2, from Q1.30 to Q0.31 */
}

/* Scaled input difference (Q5.26) of one value to its row maximum. */
static int32_t scaled_diff(const hil_softmax_params *p, int32_t diff)
{
    return mul((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
}

static hil_status softmax_row(const hil_softmax_params *p, const int8_t *in, int8_t *out)
{
    int32_t max_in_row = INT8_MIN;
    for (int32_t c = 0; c < p->depth; ++c) {
        max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    }
    int32_t sum_of_exps = 0; /* Q12.19; depth <= 4095 keeps it below 2^31 */
    for (int32_t c = 0; c < p->depth; ++c) {
        const int32_t diff = in[c] - max_in_row;
        if (diff >= p->diff_min) {
            const int32_t exp_q0 = exp_on_negative_values(scaled_diff(p, diff));
            sum_of_exps += hil_rounding_divide_by_pot(exp_q0, ACCUMULATION_INTEGER_BITS);
        }
    }
    /* sum = 2^bits_over_unit * (1 + fraction): take the reciprocal of the normalised sum. */
    int headroom_plus_one = 0;
    while (((uint32_t)sum_of_exps << headroom_plus_one) < 0x80000000u) {
        ++headroom_plus_one; /* the sum is at least exp(0) > 0, so this ends */
    }
    const int bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - 0x80000000u);
    const int32_t reciprocal = one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
    const int exponent = bits_over_unit + 31 - OUTPUT_BITS;
    if (exponent > 31) {
        return HIL_ERROR_UNSUPPORTED; /* sum of exps >= 512: the reference kernel aborts here */
    }
    for (int32_t c = 0; c < p->depth; ++c) {
        const int32_t diff = in[c] - max_in_row;
        int32_t value = INT8_MIN;
        if (diff >= p->diff_min) {
            const int32_t exp_q0 = exp_on_negative_values(scaled_diff(p, diff));
            value = hil_rounding_divide_by_pot(mul(reciprocal, exp_q0), exponent) + INT8_MIN;
        }
        out[c] = (int8_t)hil_clamp(value, INT8_MIN, INT8_MAX);
    }
    return HIL_OK;
}

hil_status hil_softmax_s8(const hil_softmax_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->input_left_shift < 0 || p->input_left_shift > 31) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->rows < 0 || p->depth < 1 || p->depth > HIL_SOFTMAX_MAX_DEPTH) {
        return HIL_ERROR_SHAPE;
    }
    for (int32_t r = 0; r < p->rows; ++r) {
        const hil_status status = softmax_row(p, input + (size_t)r * p->depth, output + (size_t)r * p->depth);
        if (status != HIL_OK) {
            return status;
        }
    }
    return HIL_OK;
}
