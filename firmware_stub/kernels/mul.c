#include "hil_mul.h"

#include <stddef.h>

#include "hil_broadcast.h"
#include "hil_fixedpoint.h"

static hil_status check_mul(const hil_mul_params *p, const int8_t *input1, const int8_t *input2,
                            const int8_t *output)
{
    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (!hil_input_offset_in_range(p->input1_offset) || !hil_input_offset_in_range(p->input2_offset) ||
        p->output_offset < -128 || p->output_offset > 127 || p->output_multiplier < 0 || p->output_shift < -31 ||
        p->output_shift > 30 || p->act_min < -128 || p->act_min > p->act_max || p->act_max > 127) {
        return HIL_ERROR_ARGUMENT;
    }
    if (!hil_broadcast_layout_valid(&p->output, p->input1_strides, p->input2_strides)) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

hil_status hil_mul_s8(const hil_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const hil_status status = check_mul(p, input1, input2, output);
    if (status != HIL_OK) {
        return status;
    }
    /* |product| <= 255 * 255 < 2^16, so up to a left shift of 14 the bounded requantization (equal to
     * the reference's, hil_fixedpoint.h) applies; larger multipliers take the general path. */
    const int bounded = p->output_shift <= 14;
    const hil_shape4 out = p->output;
    const int32_t *s1 = p->input1_strides, *s2 = p->input2_strides;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            for (int32_t x = 0; x < out.w; ++x) {
                const int8_t *row1 = input1 + (size_t)b * s1[0] + (size_t)y * s1[1] + (size_t)x * s1[2];
                const int8_t *row2 = input2 + (size_t)b * s2[0] + (size_t)y * s2[1] + (size_t)x * s2[2];
                for (int32_t c = 0; c < out.c; ++c) {
                    const int32_t product = ((int32_t)row1[(size_t)c * s1[3]] + p->input1_offset) *
                                            ((int32_t)row2[(size_t)c * s2[3]] + p->input2_offset);
                    const int32_t scaled =
                        bounded ? hil_requantize_bounded(product, p->output_multiplier, p->output_shift)
                                : hil_multiply_by_quantized_multiplier(product, p->output_multiplier, p->output_shift);
                    *output++ = (int8_t)hil_clamp(scaled + p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
    return HIL_OK;
}
