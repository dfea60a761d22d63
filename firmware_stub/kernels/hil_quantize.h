/*
 * Quantization boundaries and requantization (TFLite QUANTIZE and DEQUANTIZE, per-tensor only).
 *
 * hil_quantize_f32_s8: float32 -> int8, reference AffineQuantize. In single precision:
 *   r = roundf(x / scale) (ties away from zero), converted to int32 the way LiteRT's x86
 *   build converts it: a value outside the int32 range, infinities and NaN become INT32_MIN;
 *   then + zero_point with two's-complement wrap-around, clamped to [-128, 127].
 *   So +/-inf, NaN and |x / scale| >= 2^31 give -128 when zero_point >= 0 and 127 when it is
 *   negative, exactly as the golden does; values below 2^31 saturate as expected.
 * hil_requantize_s8:   int8 -> int8, reference Requantize:
 *   y = clamp(hil_multiply_by_quantized_multiplier(x + input_offset, multiplier, shift)
 *             + output_offset, -128, 127). No floating point.
 * hil_dequantize_s8_f32: int8 -> float32, reference Dequantize: y = scale * (x - zero_point).
 *   The reference multiplies in double and rounds to float; that product is exact in double
 *   (24-bit scale times a 9-bit integer), so one float multiply rounds to the same value.
 * Ranges: zero points and output_offset in [-128, 127], input_offset in [-127, 128],
 *   scale > 0 and finite, shift in [-31, 23], multiplier >= 0.
 * Scratch: none. Floating point is used only by the two float32 boundary kernels.
 */
#ifndef HIL_QUANTIZE_H
#define HIL_QUANTIZE_H

#include "hil_types.h"

typedef struct {
    int32_t size;        /* elements */
    float scale;         /* of the int8 side */
    int32_t zero_point;  /* of the int8 side */
} hil_quantize_params;

typedef struct {
    int32_t size;
    int32_t input_offset;   /* minus the input zero point */
    int32_t output_offset;  /* the output zero point */
    int32_t multiplier;     /* Q31, input scale / output scale */
    int32_t shift;          /* > 0 shifts left */
} hil_requantize_params;

hil_status hil_quantize_f32_s8(const hil_quantize_params *p, const float *input, int8_t *output);

hil_status hil_requantize_s8(const hil_requantize_params *p, const int8_t *input, int8_t *output);

hil_status hil_dequantize_s8_f32(const hil_quantize_params *p, const int8_t *input, float *output);

#endif /* HIL_QUANTIZE_H */
