#include "hil_conv.h"

#include <stddef.h>
#include <string.h>

#include "hil_dsp.h"

hil_status hil_conv_check_arguments(const hil_conv_params *p, const int8_t *input, const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->filter_data == NULL ||
        p->multiplier == NULL || p->shift == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 ||
        p->act_min > p->act_max) {
        return HIL_ERROR_ARGUMENT;
    }
    return HIL_OK;
}

static hil_status check_conv(const hil_conv_params *p, const int8_t *input, const int8_t *output)
{
    const hil_status status = hil_conv_check_arguments(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    if (p->filter.c < 1 || p->input.c % p->filter.c != 0 || p->input.n != p->output.n ||
        p->filter.n != p->output.c || p->output.c % (p->input.c / p->filter.c) != 0) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

hil_status hil_conv_s8(const hil_conv_params *p, const int8_t *input, int8_t *output)
{
    const hil_status status = check_conv(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 in = p->input, f = p->filter, out = p->output;
    const int32_t groups = in.c / f.c;
    const int32_t filters_per_group = out.c / groups;

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t oy = 0; oy < out.h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (int32_t ox = 0; ox < out.w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (int32_t oc = 0; oc < out.c; ++oc) {
                    const int32_t in_c0 = (oc / filters_per_group) * f.c;
                    const int8_t *filter = p->filter_data + (size_t)oc * f.h * f.w * f.c;
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
                            const int8_t *pixel = input + (((size_t)b * in.h + in_y) * in.w + in_x) * in.c + in_c0;
                            const int8_t *taps = filter + ((size_t)fy * f.w + fx) * f.c;
                            for (int32_t ic = 0; ic < f.c; ++ic) {
                                acc += (int32_t)taps[ic] * ((int32_t)pixel[ic] + p->input_offset);
                            }
                        }
                    }
                    output[(((size_t)b * out.h + oy) * out.w + ox) * out.c + oc] = hil_conv_requantize(p, acc, oc);
                }
            }
        }
    }
    return HIL_OK;
}

/* ---- The packed kernels: two pixels x two output channels per pass ------------------------ */

static int32_t round_up_4(int32_t k)
{
    return (k + 3) & ~3;
}

static hil_status check_packed(const hil_conv_packed_params *p, const int8_t *input, const int8_t *output,
                               const void *scratch)
{
    if (p == NULL || input == NULL || output == NULL || scratch == NULL || p->packed_filter == NULL ||
        p->folded_bias == NULL || p->multiplier == NULL || p->shift == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (((uintptr_t)scratch & 3u) != 0 || ((uintptr_t)p->packed_filter & 3u) != 0 ||
        p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 ||
        p->act_min > p->act_max || p->chunk_pixels < 2 || (p->chunk_pixels & 1) != 0) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->filter.c != p->input.c || p->filter.n != p->output.c || p->input.n != p->output.n ||
        p->output.c < 1 || p->filter.h < 1 || p->filter.w < 1 || p->filter.c < 1) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

/*
 * The packed kernels take the output pixels in chunks of up to chunk_pixels (hil_conv.h). On the
 * DSP path each chunk's taps are widened to int16 once, and each channel pair's filter once per chunk; every pair of pixels x pair of channels then costs per group of 4 taps
 * 4 LDRD and 8 SMLAD. The accumulators of one channel pair for the chunk are requantized together.
 */

/* Whether requantize_channel's uniform form applies to the layer (worked out once per kernel call):
 * every shift in [-HIL_REQUANT_FUSED_MAX_SHIFT, -1] and the clamp the int8 range (no activation,
 * or a ReLU whose output zero point is -128). */
static int uniform_right_shifts(const hil_conv_packed_params *p)
{
    if (p->act_min != INT8_MIN || p->act_max != INT8_MAX) {
        return 0;
    }
    for (int32_t oc = 0; oc < p->output.c; ++oc) {
        if (p->shift[oc] >= 0 || p->shift[oc] < -HIL_REQUANT_FUSED_MAX_SHIFT) {
            return 0;
        }
    }
    return 1;
}

/* One output from its accumulator (the compiler bounded it for hil_requant_high). */
static inline int8_t requantize_one(int32_t x, int32_t multiplier, int32_t shift, int32_t output_offset,
                                    int32_t act_min, int32_t act_max, int uniform)
{
    return hil_requantize_doubled((int32_t)((uint32_t)x << 1), multiplier, shift, output_offset, act_min, act_max,
                                  uniform);
}

/*
 * out[q * stride] = the requantized acc[(q / 2) * 4 + q % 2] for the chunk's `pixels` pixels: one
 * output channel whose accumulators sit two by two, four apart (mac_2x2's layout; mac_1x2 leaves
 * them at the same places).
 */
static inline __attribute__((always_inline)) void requantize_channel(const hil_conv_packed_params *p, int32_t oc,
                                                                     const int32_t *acc, int32_t pixels,
                                                                     int8_t *out, int32_t stride, int uniform)
{
    const int32_t multiplier = p->multiplier[oc], shift = p->shift[oc], output_offset = p->output_offset;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t q = 0;
    for (; q + 1 < pixels; q += 2, acc += 4, out += 2 * stride) {
        out[0] = requantize_one(acc[0], multiplier, shift, output_offset, act_min, act_max, uniform);
        out[stride] = requantize_one(acc[1], multiplier, shift, output_offset, act_min, act_max, uniform);
    }
    if (q < pixels) {
        out[0] = requantize_one(acc[0], multiplier, shift, output_offset, act_min, act_max, uniform);
    }
}

static void requantize_uniform(const hil_conv_packed_params *p, int32_t oc, const int32_t *acc, int32_t pixels,
                               int8_t *out, int32_t stride)
{
    requantize_channel(p, oc, acc, pixels, out, stride, 1);
}

static void requantize_general(const hil_conv_packed_params *p, int32_t oc, const int32_t *acc, int32_t pixels,
                               int8_t *out, int32_t stride)
{
    requantize_channel(p, oc, acc, pixels, out, stride, 0);
}

#if HIL_DSP

/*
 * Taps 0..k-1 of pixels a and b as the DSP loop reads them: per group of 4 taps, four words:
 * SXTB16(a), SXTB16(a ROR 8), SXTB16(b), SXTB16(b ROR 8), i.e. int16 pairs (tap 0, tap 2) and
 * (tap 1, tap 3) of each pixel; the packed filter widens to the same pairs (widen_filter_pair).
 * Taps past k (up to K4) are zero.
 */
static void widen_pair(const int8_t *a, const int8_t *b, int32_t k, uint32_t *widened)
{
    int32_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const uint32_t word_a = hil_read_u32(a + i), word_b = hil_read_u32(b + i);
        widened[0] = hil_sxtb16(word_a);
        widened[1] = hil_sxtb16_ror8(word_a);
        widened[2] = hil_sxtb16(word_b);
        widened[3] = hil_sxtb16_ror8(word_b);
        widened += 4;
    }
    if (i < k) {
        uint8_t tail_a[4] = {0, 0, 0, 0}, tail_b[4] = {0, 0, 0, 0};
        memcpy(tail_a, a + i, (size_t)(k - i));
        memcpy(tail_b, b + i, (size_t)(k - i));
        const uint32_t word_a = hil_read_u32(tail_a), word_b = hil_read_u32(tail_b);
        widened[0] = hil_sxtb16(word_a);
        widened[1] = hil_sxtb16_ror8(word_a);
        widened[2] = hil_sxtb16(word_b);
        widened[3] = hil_sxtb16_ror8(word_b);
    }
}

/*
 * `words` words of the packed filter (4 taps of one channel each, 4-byte aligned), each as SXTB16
 * and SXTB16 ROR 8. Paid per channel pair and chunk, so two words a pass: LDRD, four SXTB16, two
 * STRD (9 instructions where GCC's one word a pass takes 14).
 */
static void widen_filter(const int8_t *filter, int32_t words, uint32_t *widened)
{
    const uint32_t *in = (const uint32_t *)__builtin_assume_aligned(filter, 4);
    const uint32_t *const pairs_end = in + (words & ~1);
#if HIL_DSP_INSTRUCTIONS
    uint32_t a, b, a_odd, b_odd;
    __asm__ volatile("cmp    %[in], %[end]\n\t"
                     "beq    2f\n\t"
                     "1:\n\t"
                     "ldrd   %[a], %[b], [%[in]], #8\n\t"
                     "sxtb16 %[ao], %[a], ror #8\n\t"
                     "sxtb16 %[a], %[a]\n\t"
                     "sxtb16 %[bo], %[b], ror #8\n\t"
                     "sxtb16 %[b], %[b]\n\t"
                     "strd   %[a], %[ao], [%[out]], #8\n\t"
                     "strd   %[b], %[bo], [%[out]], #8\n\t"
                     "cmp    %[in], %[end]\n\t"
                     "bne    1b\n\t"
                     "2:\n\t"
                     : [in] "+r"(in), [out] "+r"(widened), [a] "=&r"(a), [b] "=&r"(b), [ao] "=&r"(a_odd),
                       [bo] "=&r"(b_odd)
                     : [end] "r"(pairs_end)
                     : "cc", "memory");
#else
    for (; in != pairs_end; in += 2, widened += 4) {
        widened[0] = hil_sxtb16(in[0]);
        widened[1] = hil_sxtb16_ror8(in[0]);
        widened[2] = hil_sxtb16(in[1]);
        widened[3] = hil_sxtb16_ror8(in[1]);
    }
#endif
    if (words & 1) {
        widened[0] = hil_sxtb16(in[0]);
        widened[1] = hil_sxtb16_ror8(in[0]);
    }
}

#if HIL_DSP_INSTRUCTIONS
/* One group of 4 taps, two pixels x two channels, all widened: 4 LDRD, 8 SMLAD. */
#define HIL_MAC_2X2_GROUP                                  \
    "ldrd   %[x0], %[x1], [%[x]], #8\n\t"                  \
    "ldrd   %[w0], %[t0], [%[w]], #8\n\t"                  \
    "ldrd   %[w1], %[t1], [%[w]], #8\n\t"                  \
    "smlad  %[a0], %[x0], %[w0], %[a0]\n\t"                \
    "smlad  %[a0], %[x1], %[t0], %[a0]\n\t"                \
    "smlad  %[a1], %[x0], %[w1], %[a1]\n\t"                \
    "smlad  %[a1], %[x1], %[t1], %[a1]\n\t"                \
    "ldrd   %[x0], %[x1], [%[x]], #8\n\t"                  \
    "smlad  %[b0], %[x0], %[w0], %[b0]\n\t"                \
    "smlad  %[b0], %[x1], %[t0], %[b0]\n\t"                \
    "smlad  %[b1], %[x0], %[w1], %[b1]\n\t"                \
    "smlad  %[b1], %[x1], %[t1], %[b1]\n\t"
#endif

/*
 * One pixel pair x one channel pair: acc = {a0, b0, a1, b1} (pixel a / b, channel 0 / 1 of the
 * pair) = the biases + `groups` (>= 1) groups of widened taps *x times the widened filter w of the
 * pair (per group: channel 0's two words, then channel 1's); *x is left at the next pixel pair.
 */
static inline void mac_2x2(const uint32_t **x, const uint32_t *w, int32_t groups, int32_t bias0, int32_t bias1,
                           int32_t acc[4])
{
    const uint32_t *taps = *x;
    int32_t a0 = bias0, b0 = bias0, a1 = bias1, b1 = bias1;
#if HIL_DSP_INSTRUCTIONS
    /*
     * The hot loop of the engine, as the instructions above (GCC's own schedule spills registers),
     * two groups per pass; an odd count enters at the second group.
     */
    const uint32_t *const end = w + (size_t)groups * 4;
    uint32_t w0, w1, x0, x1, t0, t1;
    __asm__ volatile("sub    %[t0], %[end], %[w]\n\t"
                     "tst    %[t0], #16\n\t"
                     "bne    2f\n\t"
                     "1:\n\t" HIL_MAC_2X2_GROUP
                     "2:\n\t" HIL_MAC_2X2_GROUP
                     "cmp    %[w], %[end]\n\t"
                     "bne    1b\n\t"
                     : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [x] "+r"(taps), [w] "+r"(w),
                       [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1), [t0] "=&r"(t0), [t1] "=&r"(t1)
                     : [end] "r"(end)
                     : "cc", "memory");
#else
    for (int32_t g = 0; g < groups; ++g) {
        a0 = hil_smlad(taps[1], w[1], hil_smlad(taps[0], w[0], a0));
        a1 = hil_smlad(taps[1], w[3], hil_smlad(taps[0], w[2], a1));
        b0 = hil_smlad(taps[3], w[1], hil_smlad(taps[2], w[0], b0));
        b1 = hil_smlad(taps[3], w[3], hil_smlad(taps[2], w[2], b1));
        taps += 4;
        w += 4;
    }
#endif
    acc[0] = a0;
    acc[1] = b0;
    acc[2] = a1;
    acc[3] = b1;
    *x = taps;
}

/* The odd last channel: acc = {a, b} = bias + its widened filter w (two words per group) times the pair's taps. */
static void mac_1x2(const uint32_t *x, const uint32_t *w, int32_t groups, int32_t bias, int32_t acc[2])
{
    int32_t a = bias, b = bias;
    for (int32_t g = 0; g < groups; ++g) {
        a = hil_smlad(x[1], w[1], hil_smlad(x[0], w[0], a));
        b = hil_smlad(x[3], w[1], hil_smlad(x[2], w[0], b));
        x += 4;
        w += 2;
    }
    acc[0] = a;
    acc[1] = b;
}

#endif /* HIL_DSP */

/* The compiler's chunk (hil_conv.h), no longer than the call's pixels rounded up to even. */
static int32_t chunk_for(const hil_conv_packed_params *p, int32_t pixels)
{
    const int32_t even = pixels + (pixels & 1);
    return p->chunk_pixels < even ? p->chunk_pixels : even;
}

/* Scratch of the DSP path for chunks of `chunk` pixels: accumulators, a widened channel pair, widened taps. */
static size_t chunk_scratch_bytes(int32_t k4, int32_t chunk)
{
    return (size_t)8 * chunk + (size_t)4 * k4 + (size_t)2 * chunk * k4;
}

/*
 * Every output channel of `pixels` (1 ..= chunk) output pixels whose taps are the k int8 values at
 * rows + q * row_stride, written to out + q * output.c. `scratch`: chunk_scratch_bytes(K4, chunk).
 */
static void conv_chunk(const hil_conv_packed_params *p, const int8_t *rows, size_t row_stride, int32_t k,
                       int32_t chunk, int32_t pixels, int8_t *out, void *scratch, int uniform)
{
    const int32_t k4 = round_up_4(k), out_c = p->output.c;
    const int8_t *w = p->packed_filter;
    const int32_t *bias = p->folded_bias;
    int32_t *acc = (int32_t *)scratch; /* {a0, b0, a1, b1} per pixel pair */
    int32_t oc = 0;
#if HIL_DSP
    const int32_t groups = k4 / 4, pairs = (pixels + 1) / 2;
    uint32_t *filter = (uint32_t *)(acc + 2 * chunk);
    uint32_t *taps = filter + k4;
    for (int32_t j = 0; j < pairs; ++j) {
        const int8_t *a = rows + (size_t)(2 * j) * row_stride;
        widen_pair(a, 2 * j + 1 < pixels ? a + row_stride : a, k, taps + (size_t)j * k4);
    }
    for (; oc + 1 < out_c; oc += 2) {
        widen_filter(w, 2 * groups, filter);
        w += 2 * (size_t)k4;
        const uint32_t *x = taps;
        for (int32_t j = 0; j < pairs; ++j) {
            mac_2x2(&x, filter, groups, bias[oc], bias[oc + 1], acc + 4 * j);
        }
        for (int32_t i = 0; i < 2; ++i) {
            if (uniform) {
                requantize_uniform(p, oc + i, acc + 2 * i, pixels, out + oc + i, out_c);
            } else {
                requantize_general(p, oc + i, acc + 2 * i, pixels, out + oc + i, out_c);
            }
        }
    }
    if (oc < out_c) {
        widen_filter(w, groups, filter);
        for (int32_t j = 0; j < pairs; ++j) {
            mac_1x2(taps + (size_t)j * k4, filter, groups, bias[oc], acc + 4 * j);
        }
        if (uniform) {
            requantize_uniform(p, oc, acc, pixels, out + oc, out_c);
        } else {
            requantize_general(p, oc, acc, pixels, out + oc, out_c);
        }
    }
#else
    (void)chunk; /* the portable path keeps only its accumulators in the scratch */
    /* Scalar MACs over the same packed filter: channel oc's tap i is at w + (i / 4) * step + i % 4. */
    for (; oc < out_c; ++oc) {
        const int pair = (oc & 1) == 0 && oc + 1 < out_c;
        const int alone = (oc & 1) == 0 && !pair;
        const int8_t *filter = w + (size_t)(oc / 2) * 2 * k4 + ((oc & 1) ? 4 : 0);
        const int32_t step = alone ? 4 : 8; /* bytes per group of 4 taps */
        for (int32_t q = 0; q < pixels; ++q) {
            const int8_t *row = rows + (size_t)q * row_stride;
            int32_t sum = bias[oc];
            for (int32_t i = 0; i < k; ++i) {
                sum += filter[(i >> 2) * step + (i & 3)] * row[i];
            }
            acc[(q >> 1) * 4 + (q & 1)] = sum;
        }
        if (uniform) {
            requantize_uniform(p, oc, acc, pixels, out + oc, out_c);
        } else {
            requantize_general(p, oc, acc, pixels, out + oc, out_c);
        }
    }
#endif
}

size_t hil_conv_1x1_s8_scratch_bytes(const hil_conv_packed_params *p)
{
    return chunk_scratch_bytes(round_up_4(p->input.c), chunk_for(p, p->output.n * p->output.h * p->output.w));
}

hil_status hil_conv_1x1_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output, void *scratch,
                           size_t scratch_bytes)
{
    const hil_status status = check_packed(p, input, output, scratch);
    if (status != HIL_OK) {
        return status;
    }
    if (scratch_bytes < hil_conv_1x1_s8_scratch_bytes(p)) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->filter.h != 1 || p->filter.w != 1 || p->stride_h != 1 || p->stride_w != 1 ||
        p->pad_h != 0 || p->pad_w != 0 || p->input.h != p->output.h || p->input.w != p->output.w) {
        return HIL_ERROR_UNSUPPORTED;
    }
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    const int32_t in_c = p->input.c, out_c = p->output.c, chunk = chunk_for(p, pixels);
    const int uniform = uniform_right_shifts(p);
    for (int32_t px = 0; px < pixels; px += chunk) {
        const int32_t count = pixels - px < chunk ? pixels - px : chunk;
        const int8_t *rows = input + (size_t)px * in_c;
#if !HIL_DSP
        /* The chunk's taps copied first, as the DSP path widens them first, so the output may
         * overwrite them in place (hil_conv.h); the copy sits past the accumulators, where the DSP
         * path keeps its widened values. */
        int8_t *copy = (int8_t *)scratch + (size_t)8 * chunk;
        memcpy(copy, rows, (size_t)count * in_c);
        rows = copy;
#endif
        conv_chunk(p, rows, (size_t)in_c, in_c, chunk, count, output + (size_t)px * out_c, scratch, uniform);
    }
    return HIL_OK;
}

/* n bytes; the runs here are a filter row of pixels, often a few bytes, too short for memcpy's call. */
static void copy_bytes(int8_t *dst, const int8_t *src, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* The receptive field of output pixel (b, oy, ox) as K = filter.h * filter.w * input.c taps. */
static void gather_taps(const hil_conv_packed_params *p, const int8_t *input, int32_t b, int32_t oy, int32_t ox,
                        int8_t *taps)
{
    const hil_shape4 in = p->input, f = p->filter;
    const int32_t in_y0 = oy * p->stride_h - p->pad_h, in_x0 = ox * p->stride_w - p->pad_w;
    const int32_t last_y = in_y0 + (f.h - 1) * p->dilation_h, last_x = in_x0 + (f.w - 1) * p->dilation_w;
    const size_t row_bytes = (size_t)f.w * in.c;
    const int8_t *image = input + (size_t)b * in.h * in.w * in.c;
    if (in_y0 >= 0 && in_x0 >= 0 && last_y < in.h && last_x < in.w && p->dilation_w == 1) {
        /* Inside the image: each filter row is one run of filter.w pixels. */
        for (int32_t fy = 0; fy < f.h; ++fy) {
            const int8_t *row = image + ((size_t)(in_y0 + fy * p->dilation_h) * in.w + in_x0) * in.c;
            copy_bytes(taps + (size_t)fy * row_bytes, row, row_bytes);
        }
        return;
    }
    for (int32_t fy = 0; fy < f.h; ++fy) {
        const int32_t in_y = in_y0 + fy * p->dilation_h;
        for (int32_t fx = 0; fx < f.w; ++fx) {
            const int32_t in_x = in_x0 + fx * p->dilation_w;
            int8_t *dst = taps + ((size_t)fy * f.w + fx) * in.c;
            if (in_y < 0 || in_y >= in.h || in_x < 0 || in_x >= in.w) {
                for (int32_t ic = 0; ic < in.c; ++ic) {
                    dst[ic] = (int8_t)p->input_zero_point;
                }
            } else {
                copy_bytes(dst, image + ((size_t)in_y * in.w + in_x) * in.c, (size_t)in.c);
            }
        }
    }
}

size_t hil_conv_im2col_s8_scratch_bytes(const hil_conv_packed_params *p)
{
    const int32_t k4 = round_up_4(p->filter.h * p->filter.w * p->filter.c);
    const int32_t chunk = chunk_for(p, p->output.h * p->output.w);
    return chunk_scratch_bytes(k4, chunk) + (size_t)chunk * k4; /* then the gathered taps */
}

hil_status hil_conv_im2col_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output, void *scratch,
                              size_t scratch_bytes)
{
    const hil_status status = check_packed(p, input, output, scratch);
    if (status != HIL_OK) {
        return status;
    }
    if (scratch_bytes < hil_conv_im2col_s8_scratch_bytes(p)) {
        return HIL_ERROR_ARGUMENT;
    }
    const hil_shape4 out = p->output;
    const int32_t pixels = out.h * out.w;
    const int32_t k = p->filter.h * p->filter.w * p->filter.c, k4 = round_up_4(k), chunk = chunk_for(p, pixels);
    int8_t *taps = (int8_t *)scratch + chunk_scratch_bytes(k4, chunk); /* chunk rows of K4 gathered taps */
    const int uniform = uniform_right_shifts(p);
    for (int32_t b = 0; b < out.n; ++b) {
        int8_t *out_image = output + (size_t)b * pixels * out.c;
        for (int32_t px = 0; px < pixels; px += chunk) {
            const int32_t count = pixels - px < chunk ? pixels - px : chunk;
            for (int32_t q = 0; q < count; ++q) {
                gather_taps(p, input, b, (px + q) / out.w, (px + q) % out.w, taps + (size_t)q * k4);
            }
            conv_chunk(p, taps, (size_t)k4, k, chunk, count, out_image + (size_t)px * out.c, scratch, uniform);
        }
    }
    return HIL_OK;
}
