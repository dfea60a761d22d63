/*
 * 2-D convolution, int8 in / int8 out, per-channel requantization (TFLite CONV_2D semantics).
 *
 * Layout: input NHWC, filter OHWI, output NHWC. Grouped convolution follows from the shapes:
 * groups = input.c / filter.c, each group owns output.c / groups output channels.
 * Arithmetic: acc = bias[oc] + sum(filter * (input + input_offset)) in int32, skipping taps that
 * fall in the padding; then multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]),
 * + output_offset, clamped to [act_min, act_max].
 * Ranges: input_offset in [-127, 128], output_offset in [-128, 127], -128 <= act_min <= act_max <= 127.
 *
 * Two families of kernels:
 * - hil_conv_s8 takes hil_conv_params (the filter and bias as the model has them): any filter
 *   size, stride, dilation, padding and groups. Scratch: none.
 * - hil_conv_1x1_s8 and hil_conv_im2col_s8 take hil_conv_packed_params, prepared by the compiler
 *   (harness/compiler/ops/conv.py) so that the inner loop does nothing but multiply-accumulate:
 *   - packed_filter: per output channel its K = filter.h * filter.w * filter.c taps in OHWI
 *     order, zero-padded to K4 = K rounded up to a multiple of 4; output channels taken in pairs
 *     (2j, 2j+1), each pair stored as K4 / 4 groups of 8 bytes: 4 taps of channel 2j then the
 *     same 4 taps of channel 2j+1; an odd last channel stores its K4 bytes alone. Total
 *     output.c * K4 bytes, 4-byte aligned. The loop reads it front to back.
 *   - folded_bias[oc] = bias[oc] + input_offset * sum(filter[oc]), so
 *     acc = folded_bias[oc] + sum(filter * input): the same int32 as the reference's, hence the
 *     same output. A tap in the padding reads the input zero point, so it adds
 *     filter * zero_point, which the fold cancels: exactly the reference's "skip the tap".
 *   Range (checked by the compiler from the actual filter and bias, else it picks hil_conv_s8):
 *   |bias[oc]| + 256 * sum|filter[oc]| < 2^31, so no partial sum can overflow int32, and the
 *   accumulator (at most |bias| + 255 * sum|filter|) shifted left by max(shift[oc], 0) stays
 *   below 2^30, the domain of the bounded requantization (hil_fixedpoint.h); shift in [-31, 30].
 *   Method: the output pixels are taken in chunks of P = min(chunk_pixels, the call's output
 *   pixels (per image for im2col) rounded up to even). The compiler chooses chunk_pixels: the
 *   larger the chunk, the fewer times each channel pair's filter is widened, the larger the scratch. The DSP path (hil_dsp.h) widens the chunk's taps to int16 once
 *   (SXTB16: per group of 4 taps and pair of pixels, the pairs (tap 0, tap 2) and (tap 1, tap 3)
 *   of each), then for each pair of output channels widens their filter once for the chunk and
 *   runs every pair of pixels through it: four accumulators, per group of 4 taps 4 LDRD and 8
 *   SMLAD for 16 MACs, no offset, no bounds. The pair's accumulators for the chunk are then
 *   requantized channel by channel (SMMULR, SUB, ASR, ADD, SSAT: hil_fixedpoint.h). The portable
 *   path reads the same packed filter with scalar MACs, chunk by chunk, channel by channel.
 *   Scratch, 4-byte aligned (..._scratch_bytes below; the compiler's packed_band_scratch states the
 *   same rule): 8 * P bytes of accumulators,
 *   4 * K4 bytes for a channel pair's widened filter, 2 * P * K4 bytes of widened taps; im2col
 *   then P * K4 bytes of gathered taps.
 */
#ifndef HIL_CONV_H
#define HIL_CONV_H

#include <stddef.h>

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
    const int8_t *shift;         /* one per output channel; > 0 shifts left (int8: a quarter of the flash) */
} hil_conv_params;

/*
 * The compiler-prepared form (see above); shapes are the model's (the filter's OHWI shape). One per
 * layer in flash, so the geometry is as narrow as its values: the compiler refuses a layer whose
 * strides or dilations do not fit uint16, or padding int16 (harness/compiler/ops/conv.py); zero
 * points and the clamp are int8 by definition. (Unsigned: Thumb-2 loads them in 2 bytes.) The
 * shapes stay int32: in 16 bits the 3x3 depthwise kernel's loops reload them (a uint16 field may
 * alias its int16 copy of the window), +50 K instructions on the shared model for 24 bytes a layer.
 */
typedef struct {
    hil_shape4 input;
    hil_shape4 filter;
    hil_shape4 output;
    uint16_t stride_h, stride_w;
    uint16_t dilation_h, dilation_w;
    int16_t pad_h, pad_w;        /* top and left padding; bottom/right follow from the shapes */
    int8_t input_zero_point;     /* what a tap in the padding reads */
    int8_t output_offset;        /* the output zero point */
    int8_t act_min, act_max;
    const int8_t *packed_filter; /* output.c * K4 bytes, see above */
    const int32_t *folded_bias;  /* one per output channel (required) */
    const int32_t *multiplier;   /* one Q31 multiplier per output channel, in [0, 2^31) */
    const int8_t *shift;         /* one per output channel, in [-31, 30]; > 0 shifts left */
    int32_t chunk_pixels;        /* P of the conv kernels (see above; even, >= 2); 0 for the depthwise kernel */
} hil_conv_packed_params;

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

/* Any filter size, stride, dilation, padding and groups. */
hil_status hil_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output);

/*
 * Pointwise: 1x1 filter, stride 1, no padding, no groups (a matrix product per pixel; K = input.c).
 * Scratch: 8 * P + 4 * K4 + 2 * P * K4 bytes (see above), as hil_conv_1x1_s8_scratch_bytes says; the
 * kernel takes it with its size and refuses (HIL_ERROR_ARGUMENT) a smaller one.
 * In place: the output may share bytes with the input when input == output + tail, tail >= 0 and
 * tail >= (output bytes - input bytes): each chunk's taps are in the scratch before any of its
 * outputs is written, and a chunk's outputs end before the first input pixel of the next chunk.
 */
size_t hil_conv_1x1_s8_scratch_bytes(const hil_conv_packed_params *p);
hil_status hil_conv_1x1_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output, void *scratch,
                           size_t scratch_bytes);

/*
 * No groups, any filter size, stride, dilation and padding: each output pixel's receptive field
 * is gathered (im2col: K taps in OHWI order, padding taps = input_zero_point) and multiplied
 * like a pointwise pixel of K channels. (A 3x3 convolution with one input channel, the first
 * layer of an audio CNN, runs as a depthwise one instead: hil_depthwise.h.)
 * Scratch: 8 * P + 4 * K4 + 3 * P * K4 bytes (see above), as hil_conv_im2col_s8_scratch_bytes says;
 * taken with its size, a smaller one refused.
 */
size_t hil_conv_im2col_s8_scratch_bytes(const hil_conv_packed_params *p);
hil_status hil_conv_im2col_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output, void *scratch,
                              size_t scratch_bytes);

#endif /* HIL_CONV_H */
