/*
 * Fully connected layer, int8 in / int8 out (TFLite FULLY_CONNECTED, LiteRT reference semantics).
 *
 * Layout: input (batches, accum_depth) row-major: an input of any rank is flattened, the last
 * axis being the one reduced; filter (units, accum_depth) row-major; output (batches, units).
 * Arithmetic: acc = bias[u] + sum(filter * (input + input_offset)) in int32. The reference then
 * requantizes in double precision: round_half_away((double)acc * scale[u]), the product being
 * rounded to the 53-bit significand of a double (ties to even) before the final rounding. The
 * kernel reproduces both roundings exactly with integers, from scale[u] = mantissa * 2^-exponent:
 * mantissa = (scale_mantissa_hi[u] << 26) | scale_mantissa_lo[u], a 53-bit integer in
 * [2^52, 2^53). The result + output_offset is clamped to [act_min, act_max].
 * per_channel = 0 uses entry 0 of the scale arrays for every unit.
 * Ranges: input_offset in [-127, 128], output_offset in [-128, 127], -128 <= act_min <= act_max <= 127,
 * scale_exponent >= 22 (scale < 2^31), and |acc| * scale < 2^31 - 256 for every reachable acc
 * (the compiler checks this bound with the actual weights and bias).
 * Scratch: none.
 */
#ifndef HIL_FULLY_CONNECTED_H
#define HIL_FULLY_CONNECTED_H

#include "hil_types.h"

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t units;
    int32_t input_offset;              /* minus the input zero point */
    int32_t output_offset;             /* the output zero point */
    int32_t act_min, act_max;
    int32_t per_channel;               /* 1: one scale per unit, 0: one scale for all */
    const int8_t *filter_data;         /* units x accum_depth */
    const int32_t *bias;               /* one per unit, or NULL */
    const int32_t *scale_mantissa_hi;  /* bits 26..52 of the scale's 53-bit mantissa */
    const int32_t *scale_mantissa_lo;  /* bits 0..25 */
    const int32_t *scale_exponent;     /* scale = mantissa * 2^-exponent */
} hil_fully_connected_params;

hil_status hil_fully_connected_s8(const hil_fully_connected_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_FULLY_CONNECTED_H */
