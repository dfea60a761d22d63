#include "hil_fully_connected.h"

#include <stddef.h>

#include "hil_fixedpoint.h"

#define DOUBLE_SIGNIFICAND_BITS 53
#define MANTISSA_LO_BITS 26

static int32_t bit_length(uint64_t value)
{
    int32_t length = 0;
    while (value != 0) {
        value >>= 1;
        ++length;
    }
    return length;
}

/*
 * round_half_away(double(magnitude * mantissa) * 2^-exponent), where double() rounds the exact
 * product (at most 32 + 53 bits) to 53 significant bits, ties to even, as the FPU does.
 */
static uint32_t scale_magnitude(uint32_t magnitude, uint64_t mantissa, int32_t exponent)
{
    const uint64_t low_product = (uint64_t)magnitude * (uint32_t)mantissa;
    const uint64_t high_product = (uint64_t)magnitude * (uint32_t)(mantissa >> 32);
    const uint64_t lo = low_product + (high_product << 32);
    const uint64_t hi = (high_product >> 32) + (lo < low_product ? 1u : 0u);

    const int32_t length = hi != 0 ? 64 + bit_length(hi) : bit_length(lo);
    const int32_t dropped = length > DOUBLE_SIGNIFICAND_BITS ? length - DOUBLE_SIGNIFICAND_BITS : 0;
    uint64_t significand = lo;
    if (dropped > 0) { /* dropped <= 31: the product has at most 84 bits */
        const uint64_t rest = lo & (((uint64_t)1 << dropped) - 1);
        const uint64_t half = (uint64_t)1 << (dropped - 1);
        significand = (hi << (64 - dropped)) | (lo >> dropped);
        if (rest > half || (rest == half && (significand & 1u) != 0)) {
            ++significand;
        }
    }

    const int32_t point = exponent - dropped; /* value = significand * 2^-point */
    if (point <= 0) {
        return (uint32_t)(significand << -point);
    }
    if (point > DOUBLE_SIGNIFICAND_BITS + 1) {
        return 0; /* below 1/4 */
    }
    return (uint32_t)((significand + ((uint64_t)1 << (point - 1))) >> point);
}

static int32_t requantize(int32_t acc, const hil_fully_connected_params *p, int32_t unit)
{
    const int32_t k = p->per_channel ? unit : 0;
    const uint64_t mantissa = ((uint64_t)(uint32_t)p->scale_mantissa_hi[k] << MANTISSA_LO_BITS) |
                              (uint32_t)p->scale_mantissa_lo[k];
    const uint32_t magnitude = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
    const int32_t scaled = (int32_t)scale_magnitude(magnitude, mantissa, p->scale_exponent[k]);
    return hil_clamp((acc < 0 ? -scaled : scaled) + p->output_offset, p->act_min, p->act_max);
}

hil_status hil_fully_connected_s8(const hil_fully_connected_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->filter_data == NULL ||
        p->scale_mantissa_hi == NULL || p->scale_mantissa_lo == NULL || p->scale_exponent == NULL ||
        p->act_min > p->act_max) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->batches < 0 || p->accum_depth < 1 || p->units < 1) {
        return HIL_ERROR_SHAPE;
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *row = input + (size_t)b * p->accum_depth;
        for (int32_t u = 0; u < p->units; ++u) {
            const int8_t *weights = p->filter_data + (size_t)u * p->accum_depth;
            int32_t acc = p->bias != NULL ? p->bias[u] : 0;
            for (int32_t d = 0; d < p->accum_depth; ++d) {
                acc += (int32_t)weights[d] * ((int32_t)row[d] + p->input_offset);
            }
            output[(size_t)b * p->units + u] = (int8_t)requantize(acc, p, u);
        }
    }
    return HIL_OK;
}
