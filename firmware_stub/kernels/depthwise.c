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

/* ---- 3x3, any depth multiplier: one input channel at a time from a widened, padded copy ---- */

/* The rows and columns of the padded window the outputs read: the copy's height and width. */
static int32_t window_extent(int32_t outputs, int32_t stride)
{
    return (outputs - 1) * stride + 3;
}

/* int16 values from one row of the copy to the next: the width, even for stride 1 (LDRD pairs). */
static int32_t copy_pitch(int32_t copy_w, int32_t stride_w)
{
    return stride_w == 1 ? copy_w + (copy_w & 1) : copy_w;
}

/* Output rows per copy of the window (hil_depthwise.h): all of them for depth multiplier 1 (each
 * channel is copied once), else 2 (the copy of one input channel serves its `multiplier` outputs). */
static int32_t band_rows(int32_t out_h, int32_t multiplier)
{
    return multiplier == 1 || out_h < 2 ? out_h : 2;
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
    if (p->filter.h != 3 || p->filter.w != 3 || p->output.c % p->input.c != 0 || p->dilation_h != 1 ||
        p->dilation_w != 1) {
        return HIL_ERROR_UNSUPPORTED;
    }
    return HIL_OK;
}

/*
 * Copies channel c of `image` rows first_y .. first_y + rows - 1 (some may be padding) into the
 * copy's rows 0 .. rows - 1, columns x0 .. x1 - 1 (the image's; the other columns stay the zero
 * point). A padding row is left as it is, or set to the zero point when `refill` (an earlier
 * band may have put image values there).
 */
static void copy_window(const hil_conv_packed_params *p, const int8_t *image, int32_t c, int16_t *copy,
                        int32_t pitch, int32_t first_y, int32_t rows, int32_t x0, int32_t x1, int refill)
{
    const int32_t channels = p->input.c;
    for (int32_t r = 0; r < rows; ++r) {
        const int32_t y = first_y + r;
        int16_t *dst = copy + (size_t)r * pitch + x0;
        int32_t x = x0;
        if (y < 0 || y >= p->input.h) {
            for (; refill && x < x1; ++x) {
                *dst++ = (int16_t)p->input_zero_point;
            }
            continue;
        }
        const int8_t *src = image + ((size_t)y * p->input.w + (x0 - p->pad_w)) * channels + c;
        /* Two pixels per word store (unaligned when x0 is odd, which the CPUs here allow), four per pass. */
        for (; x + 4 <= x1; x += 4) {
            const uint32_t first = hil_halfwords(src[0], src[channels]);
            const uint32_t second = hil_halfwords(src[2 * channels], src[3 * channels]);
            memcpy(dst, &first, sizeof(first));
            memcpy(dst + 2, &second, sizeof(second));
            dst += 4;
            src += 4 * channels;
        }
        if (x + 2 <= x1) {
            const uint32_t pair = hil_halfwords(src[0], src[channels]);
            memcpy(dst, &pair, sizeof(pair));
            dst += 2;
            src += 2 * channels;
            x += 2;
        }
        if (x < x1) {
            *dst = *src;
        }
    }
}

/*
 * One channel's filter as the row loops read it, every tap doubled and the sums started from
 * twice the bias: the loops leave twice the accumulator, which requantization doubles anyway.
 */
typedef struct {
#if HIL_DSP
    uint32_t left[3];  /* per filter row: taps 0 and 1 as int16 lanes */
    uint32_t right[3]; /* per filter row: taps 1 and 2 as int16 lanes */
#else
    int32_t tap[9];
#endif
    int32_t twice_bias;
} channel_filter;

static void prepare_filter(const int8_t *taps, int32_t bias, channel_filter *f)
{
#if HIL_DSP
    for (int32_t r = 0; r < 3; ++r) {
        f->left[r] = hil_halfwords(2 * taps[3 * r], 2 * taps[3 * r + 1]);
        f->right[r] = hil_halfwords(2 * taps[3 * r + 1], 2 * taps[3 * r + 2]);
    }
#else
    for (int32_t i = 0; i < 9; ++i) {
        f->tap[i] = 2 * taps[i];
    }
#endif
    f->twice_bias = (int32_t)((uint32_t)bias << 1); /* wraps like the sums; the total fits (hil_depthwise.h) */
}

/* Twice the accumulator of the output whose window starts at `row0` (rows `pitch` apart). */
static int32_t depthwise_one(const channel_filter *f, const int16_t *row0, int32_t pitch)
{
    int32_t sum = f->twice_bias;
    for (int32_t r = 0; r < 3; ++r) {
        const int16_t *row = row0 + (size_t)r * pitch;
#if HIL_DSP
        sum = hil_smlabt((uint32_t)row[2], f->right[r], hil_smlad(hil_read_u32(row), f->left[r], sum));
#else
        /* unsigned: a partial sum may wrap, as SMLAD's does; the total does not */
        sum = (int32_t)((uint32_t)sum + (uint32_t)(f->tap[3 * r] * row[0] + f->tap[3 * r + 1] * row[1] +
                                                   f->tap[3 * r + 2] * row[2]));
#endif
    }
    return sum;
}

#if HIL_DSP_INSTRUCTIONS
/*
 * Two outputs per pass (a and b: the window's columns 0..2 and stride..stride + 2), per filter
 * row r from that row of the copy: stride 1 reads the int16 pairs x = (c0, c1), y = (c2, c3) with
 * one LDRD; a += x.left + y.lo * tap2, b += x.hi * tap0 + y.right. Stride 2 reads x = (c0, c1),
 * y = (c2, c3), then c4: a += x.left + y.lo * tap2, b += y.left + c4 * tap2. Row 0 starts both
 * sums from the bias. Written as instructions: GCC's own schedule spills the filter; 14
 * registers, so the bias and the end are read from the stack.
 */
#define HIL_DW_S1_FIRST                                  \
    "ldr    %[a], %[bias]\n\t"                           \
    "ldrd   %[x], %[y], [%[r0]], #4\n\t"                 \
    "smlatb %[b], %[x], %[l0], %[a]\n\t"                 \
    "smlad  %[a], %[x], %[l0], %[a]\n\t"                 \
    "smlabt %[a], %[y], %[q0], %[a]\n\t"                 \
    "smlad  %[b], %[y], %[q0], %[b]\n\t"
#define HIL_DW_S1_ROW(R, L, Q)                           \
    "ldrd   %[x], %[y], [%[" R "]], #4\n\t"              \
    "smlad  %[a], %[x], %[" L "], %[a]\n\t"              \
    "smlatb %[b], %[x], %[" L "], %[b]\n\t"              \
    "smlabt %[a], %[y], %[" Q "], %[a]\n\t"              \
    "smlad  %[b], %[y], %[" Q "], %[b]\n\t"
#define HIL_DW_S2_FIRST                                  \
    "ldr    %[a], %[bias]\n\t"                           \
    "ldr    %[x], [%[r0]], #8\n\t"                       \
    "ldr    %[y], [%[r0], #-4]\n\t"                      \
    "smlad  %[b], %[y], %[l0], %[a]\n\t"                 \
    "smlad  %[a], %[x], %[l0], %[a]\n\t"                 \
    "smlabt %[a], %[y], %[q0], %[a]\n\t"                 \
    "ldr    %[x], [%[r0]]\n\t"                           \
    "smlabt %[b], %[x], %[q0], %[b]\n\t"
#define HIL_DW_S2_ROW(R, L, Q)                           \
    "ldr    %[x], [%[" R "]], #8\n\t"                    \
    "ldr    %[y], [%[" R "], #-4]\n\t"                   \
    "smlad  %[a], %[x], %[" L "], %[a]\n\t"              \
    "smlabt %[a], %[y], %[" Q "], %[a]\n\t"              \
    "smlad  %[b], %[y], %[" L "], %[b]\n\t"              \
    "ldr    %[x], [%[" R "]]\n\t"                        \
    "smlabt %[b], %[x], %[" Q "], %[b]\n\t"
#define HIL_DW_PAIRS(FIRST, ROW)                                                                      \
    __asm__ volatile("1:\n\t" FIRST ROW("r1", "l1", "q1") ROW("r2", "l2", "q2")                       \
                     "strd   %[a], %[b], [%[acc]], #8\n\t"                                            \
                     "ldr    %[x], %[end]\n\t"                                                        \
                     "cmp    %[acc], %[x]\n\t"                                                        \
                     "bne    1b\n\t"                                                                  \
                     : [a] "=&r"(a), [b] "=&r"(b), [x] "=&r"(x), [y] "=&r"(y), [r0] "+r"(row0),      \
                       [r1] "+r"(row1), [r2] "+r"(row2), [acc] "+r"(acc)                              \
                     : [l0] "r"(f->left[0]), [l1] "r"(f->left[1]), [l2] "r"(f->left[2]),              \
                       [q0] "r"(f->right[0]), [q1] "r"(f->right[1]), [q2] "r"(f->right[2]),           \
                       [bias] "m"(bias), [end] "m"(end)                                               \
                     : "cc", "memory")
#endif

#if HIL_DSP
/* acc[0 .. 2 * pairs - 1] as depthwise_row's, stride 1 or 2, pairs >= 1. On the target the loop
 * above, which takes every register but SP and PC (so nothing else may be live around it: not
 * inlined); elsewhere its C twin, the same instructions in the same order. */
static __attribute__((noinline)) void depthwise_pairs(const channel_filter *f, const int16_t *row0, int32_t pitch,
                                                      int32_t stride, int32_t pairs, int32_t *acc)
{
#if HIL_DSP_INSTRUCTIONS
    const int16_t *row1 = row0 + pitch, *row2 = row1 + pitch;
    const int32_t bias = f->twice_bias;
    const int32_t *const end = acc + 2 * pairs;
    int32_t a, b;
    uint32_t x, y;
    if (stride == 1) {
        HIL_DW_PAIRS(HIL_DW_S1_FIRST, HIL_DW_S1_ROW);
    } else {
        HIL_DW_PAIRS(HIL_DW_S2_FIRST, HIL_DW_S2_ROW);
    }
#else
    for (int32_t j = 0; j < pairs; ++j) {
        int32_t a = f->twice_bias, b = f->twice_bias;
        for (int32_t r = 0; r < 3; ++r) {
            const int16_t *row = row0 + (size_t)r * pitch + (size_t)j * 2 * stride;
            const uint32_t x = hil_read_u32(row), y = hil_read_u32(row + 2);
            if (stride == 1) {
                b = hil_smlatb(x, f->left[r], b);
                a = hil_smlad(x, f->left[r], a);
                a = hil_smlabt(y, f->right[r], a);
                b = hil_smlad(y, f->right[r], b);
            } else {
                b = hil_smlad(y, f->left[r], b);
                a = hil_smlad(x, f->left[r], a);
                a = hil_smlabt(y, f->right[r], a);
                b = hil_smlabt((uint32_t)row[4], f->right[r], b);
            }
        }
        acc[2 * j] = a;
        acc[2 * j + 1] = b;
    }
#endif
}
#endif

/*
 * acc[ox] = twice the accumulator of output ox of one row (the nine taps plus the bias), for
 * the window whose rows start at `row0` (`pitch` apart): output ox reads columns ox * stride +
 * 0..2, with no bounds to check. outputs >= 1.
 */
static void depthwise_row(const channel_filter *f, const int16_t *row0, int32_t pitch, int32_t stride,
                          int32_t outputs, int32_t *acc)
{
    int32_t ox = 0;
#if HIL_DSP
    if ((stride == 1 || stride == 2) && outputs >= 2) {
        depthwise_pairs(f, row0, pitch, stride, outputs / 2, acc);
        ox = outputs & ~1;
    }
#endif
    for (; ox < outputs; ++ox) {
        acc[ox] = depthwise_one(f, row0 + (size_t)ox * stride, pitch);
    }
}

/* What requantizing one channel's accumulators needs. */
typedef struct {
    int32_t multiplier, shift, output_offset, act_min, act_max;
} channel_output;

/*
 * out[ox * stride] = the output of acc[ox] (twice an accumulator, see depthwise_row), two per
 * pass. `uniform` (a constant where it is called): the shift is in
 * [-HIL_REQUANT_FUSED_MAX_SHIFT, -1] and the clamp the int8 range (hil_requantize_doubled).
 */
static inline void requantize_row(const channel_output *channel, const int32_t *acc, int32_t outputs, int8_t *out,
                                  int32_t stride, int uniform)
{
    const channel_output co = *channel;
    const int32_t *const end = acc + (outputs & ~1);
    for (; acc != end; acc += 2) {
        const int32_t a = acc[0], b = acc[1];
        out[0] = hil_requantize_doubled(a, co.multiplier, co.shift, co.output_offset, co.act_min, co.act_max, uniform);
        out[stride] =
            hil_requantize_doubled(b, co.multiplier, co.shift, co.output_offset, co.act_min, co.act_max, uniform);
        out += 2 * stride;
    }
    if (outputs & 1) {
        *out = hil_requantize_doubled(*acc, co.multiplier, co.shift, co.output_offset, co.act_min, co.act_max,
                                      uniform);
    }
}

static void requantize_row_uniform(const channel_output *co, const int32_t *acc, int32_t outputs, int8_t *out,
                                   int32_t stride)
{
    requantize_row(co, acc, outputs, out, stride, 1);
}

static void requantize_row_general(const channel_output *co, const int32_t *acc, int32_t outputs, int8_t *out,
                                   int32_t stride)
{
    requantize_row(co, acc, outputs, out, stride, 0);
}

size_t hil_depthwise_conv_3x3_s8_scratch_bytes(const hil_conv_packed_params *p)
{
    const hil_shape4 out = p->output;
    const int32_t copy_h = window_extent(band_rows(out.h, out.c / p->input.c), p->stride_h);
    const int32_t copy_w = window_extent(out.w, p->stride_w);
    return (size_t)4 * out.w + (size_t)2 * copy_h * copy_pitch(copy_w, p->stride_w);
}

hil_status hil_depthwise_conv_3x3_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                     void *scratch, size_t scratch_bytes)
{
    const hil_status status = check_depthwise_3x3(p, input, output, scratch);
    if (status != HIL_OK) {
        return status;
    }
    if (scratch_bytes < hil_depthwise_conv_3x3_s8_scratch_bytes(p)) {
        return HIL_ERROR_ARGUMENT;
    }
    const hil_shape4 in = p->input, out = p->output;
    const int32_t multiplier = out.c / in.c, stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t band = band_rows(out.h, multiplier);
    const int32_t copy_h = window_extent(band, stride_h), copy_w = window_extent(out.w, stride_w);
    const int32_t pitch = copy_pitch(copy_w, stride_w);
    int32_t *acc = (int32_t *)scratch; /* one row of outputs */
    int16_t *copy = (int16_t *)(acc + out.w);
    /* The columns the image covers; the rest is padding and holds the zero point. */
    const int32_t x0 = p->pad_w < copy_w ? p->pad_w : copy_w;
    const int32_t x1 = p->pad_w + in.w < copy_w ? p->pad_w + in.w : copy_w;
    for (int32_t i = 0; i < copy_h * pitch; ++i) {
        copy[i] = (int16_t)p->input_zero_point;
    }
    const int refill = band < out.h;
    const int full_range = p->act_min == INT8_MIN && p->act_max == INT8_MAX;
    const int32_t row_stride = out.w * out.c; /* bytes between output rows */
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *image = input + (size_t)b * in.h * in.w * in.c;
        int8_t *out_image = output + (size_t)b * out.h * row_stride;
        for (int32_t ic = 0; ic < in.c; ++ic) {
            for (int32_t oy0 = 0; oy0 < out.h; oy0 += band) {
                const int32_t rows = out.h - oy0 < band ? out.h - oy0 : band;
                copy_window(p, image, ic, copy, pitch, oy0 * stride_h - p->pad_h, window_extent(rows, stride_h), x0,
                            x1, refill);
                for (int32_t c = ic * multiplier; c < (ic + 1) * multiplier; ++c) {
                    channel_filter f;
                    prepare_filter(p->packed_filter + (size_t)c * 9, p->folded_bias[c], &f);
                    const channel_output co = {p->multiplier[c], p->shift[c], p->output_offset, p->act_min,
                                               p->act_max};
                    const int uniform =
                        full_range && co.shift < 0 && co.shift >= -HIL_REQUANT_FUSED_MAX_SHIFT;
                    for (int32_t oy = 0; oy < rows; ++oy) {
                        depthwise_row(&f, copy + (size_t)oy * stride_h * pitch, pitch, stride_w, out.w, acc);
                        int8_t *out_row = out_image + (size_t)(oy0 + oy) * row_stride + c;
                        if (uniform) {
                            requantize_row_uniform(&co, acc, out.w, out_row, out.c);
                        } else {
                            requantize_row_general(&co, acc, out.w, out_row, out.c);
                        }
                    }
                }
            }
        }
    }
    return HIL_OK;
}
