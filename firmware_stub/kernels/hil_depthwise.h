/*
 * Depthwise 2-D convolution, int8 in / int8 out, per-channel requantization
 * (TFLite DEPTHWISE_CONV_2D, reference_integer_ops::DepthwiseConvPerChannel semantics).
 *
 * Parameters: hil_conv_params (see hil_conv.h), with the filter shaped {1, KH, KW, OC}.
 * Layout: input NHWC, filter (1, KH, KW, OC), output NHWC; the depth multiplier is
 * output.c / input.c and output channel oc reads input channel oc / depth_multiplier.
 * Arithmetic: acc = sum(filter * (input + input_offset)) in int32 over the taps that fall
 * inside the image (padding taps contribute nothing), + bias[oc]; then
 * multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]) + output_offset,
 * clamped to [act_min, act_max].
 * Ranges: input_offset in [-127, 128], output_offset in [-128, 127],
 * -128 <= act_min <= act_max <= 127, filter values in [-127, 127] (symmetric).
 * Scratch: none for hil_depthwise_conv_s8; input.c bytes for hil_depthwise_conv_3x3_s8.
 */
#ifndef HIL_DEPTHWISE_H
#define HIL_DEPTHWISE_H

#include "hil_conv.h"

/* Any filter size, stride, dilation, padding and depth multiplier. */
hil_status hil_depthwise_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output);

/*
 * Specialised: 3x3 filter, depth multiplier 1, dilation 1 (any stride and padding).
 * Every output pixel reads exactly nine taps: a tap in the padding reads a row of the
 * input zero point held in `scratch` (input.c bytes), which contributes exactly 0.
 */
hil_status hil_depthwise_conv_3x3_s8(const hil_conv_params *p, const int8_t *input, int8_t *output,
                                     void *scratch);

#endif /* HIL_DEPTHWISE_H */
