/*
 * Softmax over the last axis, int8 in / int8 out with scale 1/256 and zero point -128
 * (TFLite SOFTMAX, LiteRT reference kernel: gemmlowp fixed-point exp, not a lookup table).
 *
 * Layout: rows x depth, row-major; each row of `depth` values is normalised independently.
 * Arithmetic, per row: diff = x - max(row). Values with diff < diff_min give -128. The others:
 * d = saturating_rounding_doubling_high_mul(diff * 2^input_left_shift, input_multiplier) read
 * as Q5.26, e = exp(d) in Q0.31 (gemmlowp exp_on_negative_values), sum = sum of e rescaled to
 * Q12.19; 1/sum by Newton-Raphson (one_over_one_plus_x_for_x_in_0_1) after normalising sum to
 * [1, 2); out = rounding_divide_by_pot(recip * e, bits_over_unit + 23) - 128, clamped to int8.
 * Ranges: rows >= 0, 1 <= depth <= 4095 (the Q12.19 sum cannot overflow), input_multiplier in
 * [2^30, 2^31), input_left_shift in [1, 31], diff_min = -floor(31 * 2^26 / 2^input_left_shift).
 * Status: HIL_ERROR_UNSUPPORTED for a row whose sum of exponentials reaches 512 (more than about
 * 511 values close to the row maximum): the reference kernel aborts on such a row.
 * Scratch: none.
 */
#ifndef HIL_SOFTMAX_H
#define HIL_SOFTMAX_H

#include "hil_types.h"

#define HIL_SOFTMAX_MAX_DEPTH 4095

typedef struct {
    int32_t rows;              /* product of all dimensions but the last */
    int32_t depth;             /* the last dimension */
    int32_t input_multiplier;  /* Q31 significand of beta * input_scale * 2^26 */
    int32_t input_left_shift;  /* its power-of-two exponent */
    int32_t diff_min;          /* smallest difference to the row maximum that is not zero after exp */
} hil_softmax_params;

hil_status hil_softmax_s8(const hil_softmax_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_SOFTMAX_H */
