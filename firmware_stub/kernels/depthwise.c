#include "hil_depthwise.h"

#include <stddef.h>
#include <string.h>

#include "hil_dsp.h"

static hil_status check_depthwise(const hil_conv_params *p, const int8_t *input, const int8_t *output)
{
    const hil_status status = hil_conv_check_arguments(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    if (p->filter.n != 1 || p->input.n != p->output.n || p->filter.c != p->output.c ||
        p->input.c < 1 || p->output.c % p->input.c != 0) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

static size_t pixel_offset(const hil_shape4 *s, int32_t b, int32_t y, int32_t x)
{
    return (((size_t)b * s->h + y) * s->w + x) * s->c;
}

hil_status hil_depthwise_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output)
{
    const hil_status status = check_depthwise(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 in = p->input, f = p->filter, out = p->output;
    const int32_t depth_multiplier = out.c / in.c;

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t oy = 0; oy < out.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int8_t *out_pixel = output + pixel_offset(&out, b, oy, ox);
                for (int32_t oc = 0; oc < out.c; ++oc) {
                    const int32_t ic = oc / depth_multiplier;
                    int32_t acc = 0;
                    for (int32_t fy = 0; fy < f.h; ++fy) {
                        const int32_t in_y = in_y0 + fy * p->dilation_h;
                        if (in_y < 0 || in_y >= in.h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < f.w; ++fx) {
                            const int32_t in_x = in_x0 + fx * p->dilation_w;
                            if (in_x < 0 || in_x >= in.w) {
                                continue;
                            }
                            const int32_t value = input[pixel_offset(&in, b, in_y, in_x) + ic];
                            const int32_t weight = p->filter_data[((size_t)fy * f.w + fx) * f.c + oc];
                            acc += weight * (value + p->input_offset);
                        }
                    }
                    out_pixel[oc] = hil_conv_requantize(p, acc, oc);
                }
            }
        }
    }
    return HIL_OK;
}

/* ---- 3x3, depth multiplier 1: one channel at a time from a widened, padded copy ------------ */

/* The rows and columns of the padded window the outputs read: the copy's height and width. */
static int32_t window_extent(int32_t outputs, int32_t stride)
{
    return (outputs - 1) * stride + 3;
}

static hil_status check_depthwise_3x3(const hil_conv_packed_params *p, const int8_t *input, const int8_t *output,
                                      const void *scratch)
{
    if (p == NULL || input == NULL || output == NULL || scratch == NULL || p->packed_filter == NULL ||
        p->folded_bias == NULL || p->multiplier == NULL || p->shift == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (((uintptr_t)scratch & 3u) != 0 || p->stride_h < 1 || p->stride_w < 1 || p->act_min > p->act_max ||
        p->pad_h < 0 || p->pad_w < 0) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->filter.n != 1 || p->filter.c != p->output.c || p->input.n != p->output.n || p->input.c < 1) {
        return HIL_ERROR_SHAPE;
    }
    if (p->filter.h != 3 || p->filter.w != 3 || p->output.c != p->input.c || p->dilation_h != 1 ||
        p->dilation_w != 1) {
        return HIL_ERROR_UNSUPPORTED;
    }
    return HIL_OK;
}

/* Copies channel c of image b into the interior of the padded copy (the border stays the zero point). */
static void copy_channel(const hil_conv_packed_params *p, const int8_t *image, int32_t c, int16_t *copy,
                         int32_t copy_w, int32_t y0, int32_t y1, int32_t x0, int32_t x1)
{
    const int32_t channels = p->input.c;
    for (int32_t y = y0; y < y1; ++y) {
        const int8_t *src = image + ((size_t)(y - p->pad_h) * p->input.w + (x0 - p->pad_w)) * channels + c;
        int16_t *dst = copy + (size_t)y * copy_w + x0;
        int32_t x = x0;
        /* Two pixels per word store (unaligned when x0 is odd, which the CPUs here allow). */
        for (; x + 2 <= x1; x += 2) {
            const uint32_t pair = hil_halfwords(src[0], src[channels]);
            memcpy(dst, &pair, sizeof(pair));
            dst += 2;
            src += 2 * channels;
        }
        if (x < x1) {
            *dst = *src;
        }
    }
}

#if HIL_DSP_INSTRUCTIONS
/*
 * One filter row of one output on the DSP path, for rows stepping by STEP bytes: an unaligned
 * LDR of taps 0 and 1 (an int16 pair) that steps the row, SMUAD (the first row: SUM "=&r") or
 * SMLAD (SUM "+r") with their weights, an LDRSH of tap 2 (at TAP2 = 4 - STEP from the stepped
 * row) and SMLABB/SMLABT (HALF) with its weight. Written as instructions so that the loop keeps
 * its filter in registers; the "m" operand tells the compiler which bytes of the copy are read.
 */
#define HIL_DEPTHWISE_TAPS(SUM, MAC, HALF, STEP, TAP2, row, pair, single, sum)                      \
    do {                                                                                            \
        uint32_t t_;                                                                                \
        __asm__("ldr    %[t], [%[r]], #" STEP "\n\t"                                                 \
                MAC "\n\t"                                                                          \
                "ldrsh  %[t], [%[r], #" TAP2 "]\n\t"                                                 \
                HALF " %[sum], %[t], %[v], %[sum]\n\t"                                               \
                : [r] "+r"(row), [t] "=&r"(t_), [sum] SUM(sum)                                      \
                : [w] "r"(pair), [v] "r"(single), "m"(*(const int16_t(*)[8])(row)));                \
    } while (0)

#define HIL_DEPTHWISE_ROW_ASM(STEP, TAP2)                                                                       \
    do {                                                                                                      \
        int32_t sum;                                                                                          \
        HIL_DEPTHWISE_TAPS("=&r", "smuad  %[sum], %[t], %[w]", "smlabb", STEP, TAP2, row0, w0, v01, sum);     \
        HIL_DEPTHWISE_TAPS("+r", "smlad  %[sum], %[t], %[w], %[sum]", "smlabt", STEP, TAP2, row1, w1, v01, sum); \
        HIL_DEPTHWISE_TAPS("+r", "smlad  %[sum], %[t], %[w], %[sum]", "smlabb", STEP, TAP2, row2, w2, v2, sum);  \
        *acc++ = sum;                                                                                         \
    } while (acc != end)
#endif

/*
 * acc[ox] = the nine taps of output (oy, ox) for one row of outputs (without the bias), from the
 * padded copy: output ox reads rows 0..2 from `row0` and columns ox * stride + 0..2, with no
 * bounds to check. outputs >= 1.
 */
static void depthwise_row(const int8_t *taps, const int16_t *row0, int32_t copy_w, int32_t stride,
                          int32_t outputs, int32_t *acc)
{
    const int16_t *row1 = row0 + copy_w, *row2 = row1 + copy_w;
#if HIL_DSP
    /* Per filter row: taps 0 and 1 as an int16 pair for SMLAD, tap 2 alone for SMLABB. */
    const uint32_t w0 = hil_halfwords(taps[0], taps[1]), w1 = hil_halfwords(taps[3], taps[4]);
    const uint32_t w2 = hil_halfwords(taps[6], taps[7]);
    const uint32_t v01 = hil_halfwords(taps[2], taps[5]), v2 = (uint32_t)taps[8];
#if HIL_DSP_INSTRUCTIONS
    if (stride == 1 || stride == 2) {
        /* The loop as the instructions above: GCC's own schedule spills the filter. */
        const int32_t *const end = acc + outputs;
        if (stride == 1) {
            HIL_DEPTHWISE_ROW_ASM("2", "2");
        } else {
            HIL_DEPTHWISE_ROW_ASM("4", "0");
        }
        return;
    }
#endif
    for (int32_t ox = 0; ox < outputs; ++ox) {
        int32_t sum = hil_smlad(hil_read_u32(row0), w0, 0);
        sum = hil_smlabb((uint32_t)row0[2], v01, sum);
        sum = hil_smlad(hil_read_u32(row1), w1, sum);
        sum = hil_smlabb((uint32_t)row1[2], v01 >> 16, sum);
        sum = hil_smlad(hil_read_u32(row2), w2, sum);
        acc[ox] = hil_smlabb((uint32_t)row2[2], v2, sum);
        row0 += stride;
        row1 += stride;
        row2 += stride;
    }
#else
    for (int32_t ox = 0; ox < outputs; ++ox) {
        int32_t sum = taps[0] * row0[0] + taps[1] * row0[1] + taps[2] * row0[2];
        sum += taps[3] * row1[0] + taps[4] * row1[1] + taps[5] * row1[2];
        sum += taps[6] * row2[0] + taps[7] * row2[1] + taps[8] * row2[2];
        acc[ox] = sum;
        row0 += stride;
        row1 += stride;
        row2 += stride;
    }
#endif
}

/* What requantizing one channel's accumulators needs. */
typedef struct {
    int32_t bias, multiplier, shift, output_offset, act_min, act_max;
} channel_output;

/*
 * out[ox * stride] = the requantized bias + acc[ox], for a channel whose shift is < 0 (`rounding`)
 * or >= 0. `rounding` and `full_range` are constants where it is called, so each of the four
 * uses is its own loop with no per-pixel tests.
 */
static inline void requantize_row(const channel_output *co, const int32_t *acc, int32_t outputs, int8_t *out,
                                  int32_t stride, int rounding, int full_range)
{
    const int32_t bias = co->bias, multiplier = co->multiplier, shift = co->shift;
    const int32_t output_offset = co->output_offset, twice_offset_plus_1 = 2 * output_offset + 1;
    const int32_t act_min = co->act_min, act_max = co->act_max;
    for (int32_t ox = 0; ox < outputs; ++ox) {
        const int32_t x = bias + acc[ox];
        if (rounding) {
            /* Twice the output, plus 0 or 1 (see hil_fixedpoint.h), halved inside the clamp. */
            const int32_t twice = hil_requant_twice(hil_requant_high(x, multiplier, 1), -shift, twice_offset_plus_1);
            *out = (int8_t)(full_range ? hil_ssat8(twice >> 1) : hil_clamp(twice >> 1, act_min, act_max));
        } else {
            const int32_t value = hil_requant_high(x, multiplier, shift + 1) + output_offset;
            *out = (int8_t)(full_range ? hil_ssat8(value) : hil_clamp(value, act_min, act_max));
        }
        out += stride;
    }
}

static void requantize_row_rounding(const channel_output *co, const int32_t *acc, int32_t outputs, int8_t *out,
                                    int32_t stride, int full_range)
{
    if (full_range) {
        requantize_row(co, acc, outputs, out, stride, 1, 1);
    } else {
        requantize_row(co, acc, outputs, out, stride, 1, 0);
    }
}

static void requantize_row_exact(const channel_output *co, const int32_t *acc, int32_t outputs, int8_t *out,
                                 int32_t stride, int full_range)
{
    if (full_range) {
        requantize_row(co, acc, outputs, out, stride, 0, 1);
    } else {
        requantize_row(co, acc, outputs, out, stride, 0, 0);
    }
}

hil_status hil_depthwise_conv_3x3_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                     void *scratch)
{
    const hil_status status = check_depthwise_3x3(p, input, output, scratch);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 in = p->input, out = p->output;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t copy_h = window_extent(out.h, stride_h), copy_w = window_extent(out.w, stride_w);
    int32_t *acc = (int32_t *)scratch; /* one row of outputs */
    int16_t *copy = (int16_t *)(acc + out.w);
    /* The part of the copy the image covers; the rest is padding and holds the zero point. */
    const int32_t y0 = p->pad_h < copy_h ? p->pad_h : copy_h, x0 = p->pad_w < copy_w ? p->pad_w : copy_w;
    const int32_t y1 = p->pad_h + in.h < copy_h ? p->pad_h + in.h : copy_h;
    const int32_t x1 = p->pad_w + in.w < copy_w ? p->pad_w + in.w : copy_w;
    for (int32_t i = 0; i < copy_h * copy_w; ++i) {
        copy[i] = (int16_t)p->input_zero_point;
    }
    const int full_range = p->act_min == INT8_MIN && p->act_max == INT8_MAX;
    const int32_t row_stride = out.w * out.c; /* bytes between output rows */
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *image = input + (size_t)b * in.h * in.w * in.c;
        int8_t *out_image = output + (size_t)b * out.h * row_stride;
        for (int32_t c = 0; c < out.c; ++c) {
            copy_channel(p, image, c, copy, copy_w, y0, y1, x0, x1);
            const int8_t *taps = p->packed_filter + (size_t)c * 9;
            const channel_output co = {p->folded_bias[c], p->multiplier[c], p->shift[c], p->output_offset,
                                       p->act_min, p->act_max};
            for (int32_t oy = 0; oy < out.h; ++oy) {
                depthwise_row(taps, copy + (size_t)oy * stride_h * copy_w, copy_w, stride_w, out.w, acc);
                int8_t *out_row = out_image + (size_t)oy * row_stride + c;
                if (co.shift < 0) {
                    requantize_row_rounding(&co, acc, out.w, out_row, out.c, full_range);
                } else {
                    requantize_row_exact(&co, acc, out.w, out_row, out.c, full_range);
                }
            }
        }
    }
    return HIL_OK;
}
