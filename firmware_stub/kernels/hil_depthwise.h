/*
 * Depthwise 2-D convolution, int8 in / int8 out, per-channel requantization
 * (TFLite DEPTHWISE_CONV_2D, reference_integer_ops::DepthwiseConvPerChannel semantics).
 *
 * Layout: input NHWC, filter (1, KH, KW, OC) with OC = input.c * depth_multiplier,
 * output NHWC. Output channel oc reads input channel oc / depth_multiplier.
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

#include "hil_types.h"

typedef struct {
    hil_shape4 input;
    hil_shape4 filter;           /* {1, KH, KW, OC} */
    hil_shape4 output;
    int32_t depth_multiplier;    /* output.c / input.c */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;        /* top and left padding; bottom/right follow from the shapes */
    int32_t input_offset;        /* minus the input zero point */
    int32_t output_offset;       /* the output zero point */
    int32_t act_min, act_max;
    const int8_t *filter_data;
    const int32_t *bias;         /* one per output channel, or NULL */
    const int32_t *multiplier;   /* one Q31 multiplier per output channel */
    const int32_t *shift;        /* one per output channel; > 0 shifts left */
} hil_depthwise_params;

/* Any filter size, stride, dilation, padding and depth multiplier. */
hil_status hil_depthwise_conv_s8(const hil_depthwise_params *p, const int8_t *input, int8_t *output);

/*
 * Specialised: 3x3 filter, depth multiplier 1, dilation 1 (any stride and padding).
 * Every output pixel reads exactly nine taps: a tap in the padding reads a row of the
 * input zero point held in `scratch` (input.c bytes), which contributes exactly 0.
 */
hil_status hil_depthwise_conv_3x3_s8(const hil_depthwise_params *p, const int8_t *input, int8_t *output,
                                     void *scratch);

#endif /* HIL_DEPTHWISE_H */
