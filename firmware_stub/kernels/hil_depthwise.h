/*
 * Depthwise 2-D convolution, int8 in / int8 out, per-channel requantization
 * (TFLite DEPTHWISE_CONV_2D, reference_integer_ops::DepthwiseConvPerChannel semantics).
 *
 * Layout: input NHWC, filter (1, KH, KW, OC), output NHWC; the depth multiplier is
 * output.c / input.c and output channel oc reads input channel oc / depth_multiplier.
 * Arithmetic: acc = sum(filter * (input + input_offset)) in int32 over the taps that fall
 * inside the image (padding taps contribute nothing), + bias[oc]; then
 * multiply_by_quantized_multiplier(acc, multiplier[oc], shift[oc]) + output_offset,
 * clamped to [act_min, act_max].
 * Ranges: input_offset in [-127, 128], output_offset in [-128, 127],
 * -128 <= act_min <= act_max <= 127, filter values in [-127, 127] (symmetric).
 */
#ifndef HIL_DEPTHWISE_H
#define HIL_DEPTHWISE_H

#include "hil_conv.h"

/*
 * Any filter size, stride, dilation, padding and depth multiplier.
 * Parameters: hil_conv_params (see hil_conv.h), with the filter shaped {1, KH, KW, OC}.
 * Scratch: none.
 */
hil_status hil_depthwise_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output);

/*
 * Specialised: 3x3 filter, dilation 1, any depth multiplier M, stride and padding. A convolution
 * with one input channel is this with M = its output channels (harness/compiler/ops/conv.py).
 * Parameters: hil_conv_packed_params (see hil_conv.h), prepared by the compiler
 * (harness/compiler/ops/depthwise.py): packed_filter holds each output channel's 9 taps
 * (row-major 3x3) one channel after another; folded_bias[c] = bias[c] + input_offset *
 * sum(filter[c]), so the accumulator is folded_bias + sum(filter * input), the reference's int32;
 * the same range (|bias| + 256 * sum|filter| < 2^31, and below 2^30 after a left shift) is
 * checked by the compiler.
 * Method: one input channel at a time, and for it one band of B output rows at a time (B = all
 * of output.h for M = 1, else min(2, output.h)), the rows and columns the band's outputs read (the
 * image and its padding) are copied to `scratch` as int16, the padding as the input zero point
 * (so a padding tap adds filter * zero_point, which the fold cancels: the reference skips it);
 * the copy then serves the M output channels of that input channel. Every output is nine taps
 * without a bounds check, with every tap doubled and the sum started from twice the folded bias:
 * twice the accumulator, the doubled value the requantization starts from (hil_fixedpoint.h), so
 * it needs no shift; a partial sum may wrap, the total (below 2^31) does not. On the DSP path two
 * outputs per pass: per filter row, one LDRD (stride 1) or three LDR (stride 2) of int16 pairs,
 * two SMLAD and two SMLABT/SMLATB for the two outputs' three taps; the filter stays in registers
 * for the whole row. Scalar MACs on the portable path.
 * Scratch (hil_depthwise_conv_3x3_s8_scratch_bytes; taken with its size, a smaller one refused; the
 * compiler's kernel_3x3_band_scratch states the same rule): 4 * output.w bytes (one row of
 * accumulators), then the copy: H rows of P int16, with
 * H = (B - 1) * stride_h + 3, W = (output.w - 1) * stride_w + 3 and the pitch P = W rounded up to
 * even for stride_w 1 (the rows' word pairs are read with LDRD), else W; 4-byte aligned:
 * 4 * output.w + 2 * H * P bytes.
 * In place, M = 1 only: output may equal input (any stride): input and output have the same
 * channels, so a channel's outputs land only on that channel's input bytes, which are in the copy
 * by then.
 */
size_t hil_depthwise_conv_3x3_s8_scratch_bytes(const hil_conv_packed_params *p);
hil_status hil_depthwise_conv_3x3_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                     void *scratch, size_t scratch_bytes);

#endif /* HIL_DEPTHWISE_H */
