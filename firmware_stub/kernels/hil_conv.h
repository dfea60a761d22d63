/*
 * 2-D convolution, int8 in / int8 out, per-channel requantization (TFLite CONV_2D semantics).
 *
 * Layout: input NHWC, filter OHWI, output NHWC. Grouped convolution follows from the shapes:
 * groups = input.c / filter.c, each group owns output.c / groups output channels.
 * Arithmetic: acc = bias[oc] + sum(filter * (input + input_offset)) in int32, skipping taps that
 * fall in the padding; then multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]),
 * + output_offset, clamped to [act_min, act_max].
 * Ranges: input_offset in [-127, 128], output_offset in [-128, 127], -128 <= act_min <= act_max <= 127.
 * Scratch: none.
 */
#ifndef HIL_CONV_H
#define HIL_CONV_H

#include "hil_fixedpoint.h"
#include "hil_types.h"

typedef struct {
    hil_shape4 input;
    hil_shape4 filter;
    hil_shape4 output;
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
} hil_conv_params;

/*
 * Shared by the convolution kernels (CONV_2D and DEPTHWISE_CONV_2D use this one struct):
 * pointers, strides, dilations and the clamp. Shape rules are each kernel's own.
 */
hil_status hil_conv_check_arguments(const hil_conv_params *p, const int8_t *input, const int8_t *output);

/* One accumulator to its int8 output: + bias, per-channel requantization, + offset, clamp. */
static inline int8_t hil_conv_requantize(const hil_conv_params *p, int32_t acc, int32_t channel)
{
    if (p->bias != 0) {
        acc += p->bias[channel];
    }
    acc = hil_multiply_by_quantized_multiplier(acc, p->multiplier[channel], p->shift[channel]);
    return (int8_t)hil_clamp(acc + p->output_offset, p->act_min, p->act_max);
}

/* Any filter size, stride, dilation and padding. */
hil_status hil_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output);

/* Specialised: 1x1 filter, stride 1, no padding, no groups (a matrix product per pixel). */
hil_status hil_conv_1x1_s8(const hil_conv_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_CONV_H */
