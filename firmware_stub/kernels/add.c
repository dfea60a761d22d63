#include "hil_add.h"

#include <stddef.h>

#include "hil_broadcast.h"
#include "hil_fixedpoint.h"

static int right_shift_in_range(int32_t shift)
{
    return shift >= -31 && shift <= 0;
}

static hil_status check_add(const hil_add_params *p, const int8_t *input1, const int8_t *input2,
                            const int8_t *output)
{
    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (!hil_input_offset_in_range(p->input1_offset) || !hil_input_offset_in_range(p->input2_offset) ||
        p->output_offset < -128 || p->output_offset > 127 || p->left_shift < 0 || p->left_shift > 22 ||
        !right_shift_in_range(p->input1_shift) || !right_shift_in_range(p->input2_shift) ||
        !right_shift_in_range(p->output_shift) || p->input1_multiplier < 0 || p->input2_multiplier == INT32_MIN ||
        p->output_multiplier < 0 || p->act_min < -128 || p->act_min > p->act_max || p->act_max > 127) {
        return HIL_ERROR_ARGUMENT;
    }
    if (!hil_broadcast_layout_valid(&p->output, p->input1_strides, p->input2_strides)) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

/* One output value; offsets and left_shift are in range, so nothing here overflows int32. */
static inline int8_t add_one(const hil_add_params *p, int8_t x1, int8_t x2)
{
    const int32_t shifted1 = ((int32_t)x1 + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = ((int32_t)x2 + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t sum =
        hil_multiply_by_quantized_multiplier(shifted1, p->input1_multiplier, p->input1_shift) +
        hil_multiply_by_quantized_multiplier(shifted2, p->input2_multiplier, p->input2_shift);
    const int32_t out = hil_multiply_by_quantized_multiplier(sum, p->output_multiplier, p->output_shift);
    return (int8_t)hil_clamp(out + p->output_offset, p->act_min, p->act_max);
}

hil_status hil_add_s8(const hil_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const hil_status status = check_add(p, input1, input2, output);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 out = p->output;
    const int32_t *s1 = p->input1_strides, *s2 = p->input2_strides;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            for (int32_t x = 0; x < out.w; ++x) {
                const int8_t *row1 = input1 + (size_t)b * s1[0] + (size_t)y * s1[1] + (size_t)x * s1[2];
                const int8_t *row2 = input2 + (size_t)b * s2[0] + (size_t)y * s2[1] + (size_t)x * s2[2];
                for (int32_t c = 0; c < out.c; ++c) {
                    *output++ = add_one(p, row1[(size_t)c * s1[3]], row2[(size_t)c * s2[3]]);
                }
            }
        }
    }
    return HIL_OK;
}

hil_status hil_add_elementwise_s8(const hil_add_params *p, const int8_t *input1, const int8_t *input2,
                                  int8_t *output)
{
    const hil_status status = check_add(p, input1, input2, output);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 out = p->output;
    const int32_t extents[4] = {out.n, out.h, out.w, out.c};
    const int32_t dense[4] = {out.h * out.w * out.c, out.w * out.c, out.c, 1};
    for (int d = 0; d < 4; ++d) {
        /* a dimension of size 1 never advances, so its stride does not matter */
        if (extents[d] > 1 && (p->input1_strides[d] != dense[d] || p->input2_strides[d] != dense[d])) {
            return HIL_ERROR_UNSUPPORTED;
        }
    }
    const int32_t size = hil_shape4_size(&out);
    for (int32_t i = 0; i < size; ++i) {
        output[i] = add_one(p, input1[i], input2[i]);
    }
    return HIL_OK;
}
