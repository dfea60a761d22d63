#include "hil_quantize.h"

#include <math.h>
#include <stddef.h>

#include "hil_fixedpoint.h"

static hil_status check_affine(const hil_quantize_params *p, const void *input, const void *output)
{
    if (p == NULL || input == NULL || output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    /* written so that a NaN scale fails too */
    if (p->size < 0 || !(p->scale > 0.0f && p->scale < HUGE_VALF) ||
        p->zero_point < -128 || p->zero_point > 127) {
        return HIL_ERROR_ARGUMENT;
    }
    return HIL_OK;
}

/* The reference casts float to int32 directly; on x86, where the golden runs, every value
 * the cast cannot represent (out of range, infinite, NaN) becomes INT32_MIN. */
static int32_t float_to_int32_as_x86(float value)
{
    if (value >= -2147483648.0f && value < 2147483648.0f) {
        return (int32_t)value;
    }
    return INT32_MIN;
}

/* The reference's int32 addition wraps on overflow (INT32_MIN + a negative zero point). */
static int32_t wrapping_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

hil_status hil_quantize_f32_s8(const hil_quantize_params *p, const float *input, int8_t *output)
{
    const hil_status status = check_affine(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t rounded = float_to_int32_as_x86(roundf(input[i] / p->scale));
        output[i] = (int8_t)hil_clamp(wrapping_add(rounded, p->zero_point), -128, 127);
    }
    return HIL_OK;
}

hil_status hil_requantize_s8(const hil_requantize_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    /* shift <= 23 keeps (x + input_offset) << shift inside int32 for every int8 x */
    if (p->size < 0 || p->input_offset < -127 || p->input_offset > 128 || p->output_offset < -128 ||
        p->output_offset > 127 || p->multiplier < 0 || p->shift < -31 || p->shift > 23) {
        return HIL_ERROR_ARGUMENT;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t scaled =
            hil_multiply_by_quantized_multiplier((int32_t)input[i] + p->input_offset, p->multiplier, p->shift);
        output[i] = (int8_t)hil_clamp(scaled + p->output_offset, -128, 127);
    }
    return HIL_OK;
}

hil_status hil_dequantize_s8_f32(const hil_quantize_params *p, const int8_t *input, float *output)
{
    const hil_status status = check_affine(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
    return HIL_OK;
}
