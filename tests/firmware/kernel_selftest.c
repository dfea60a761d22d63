/*
 * Kernel self-test on the emulated Cortex-M33 (tests/test_kernels_on_emulator.py): one boot checks
 * the DSP extension's instructions and the kernels' DSP paths, which only run here, against plain C.
 *
 * 1. Each hil_ instruction of kernels/hil_dsp.h (the real SXTB16, SMLAD, SMMULR, ...) against its
 *    C definition (hil_c_), on random operands and their extremes.
 * 2. hil_requantize_bounded (SMMULR) and the kernels' "twice" and fused (SMMLAR) forms against
 *    hil_multiply_by_quantized_multiplier, the reference's arithmetic, over the bounded domain.
 * 3. Random single-operator cases of the packed kernels (1x1 and im2col convolution, 3x3
 *    depthwise with depth multipliers 1 to 4): the kernels as the firmware builds them (DSP
 *    paths, inline assembly included) and the same sources built without the DSP extension
 *    (portable paths, renamed portable_* by the build) must both give the bytes of a naive loop
 *    with the reference's arithmetic.
 * main() returns 0 when everything matched, else the number of the failing check (1, 2, 3, 4, 5);
 * the first mismatch is described on the semihosting console.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hil_board.h"
#include "hil_conv.h"
#include "hil_depthwise.h"
#include "hil_dsp.h"
#include "hil_fault.h"
#include "hil_fixedpoint.h"

#if !HIL_DSP_INSTRUCTIONS
#error "the kernel self-test is for a CPU with the DSP extension"
#endif

/* The portable builds of the same kernels (see tests/test_kernels_on_emulator.py). */
hil_status portable_conv_1x1_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output, void *scratch,
                                 size_t scratch_bytes);
hil_status portable_conv_im2col_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                   void *scratch, size_t scratch_bytes);
hil_status portable_depthwise_conv_3x3_s8(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                          void *scratch, size_t scratch_bytes);

#define INSTRUCTION_CHECKS 20000
#define REQUANTIZE_CHECKS 50000
#define KERNEL_CASES 150

#define MAX_ELEMENTS 2048
#define MAX_FILTER 1024
#define MAX_CHANNELS 32
#define SCRATCH_BYTES 8192

static uint32_t rng_state = 0x9E3779B9u;

static uint32_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Uniform in [lo, hi]. */
static int32_t random_in(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next_random() % (uint32_t)(hi - lo + 1));
}

/* A word with its extremes over-represented: 0, +-1, the int8/int16/int32 limits in every lane. */
static uint32_t random_operand(void)
{
    static const uint32_t extremes[] = {0u,          1u,          0xFFFFFFFFu, 0x80808080u, 0x7F7F7F7Fu,
                                        0x80008000u, 0x7FFF7FFFu, 0x80000000u, 0x7FFFFFFFu, 0x00FF00FFu};
    const uint32_t choice = next_random() % 4u;
    if (choice == 0u) {
        return extremes[next_random() % (sizeof(extremes) / sizeof(extremes[0]))];
    }
    return next_random();
}

/* ---- Reporting ---------------------------------------------------------------------------- */

static void console_write(const char *text)
{
    register int r0 __asm__("r0") = 0x04; /* semihosting SYS_WRITE0 */
    register const char *r1 __asm__("r1") = text;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static void console_number(const char *label, int32_t value)
{
    char text[24];
    char *end = text + sizeof(text) - 1;
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    *end = '\0';
    do {
        *--end = (char)('0' + magnitude % 10u);
        magnitude /= 10u;
    } while (magnitude != 0u);
    if (value < 0) {
        *--end = '-';
    }
    console_write(label);
    console_write(end);
    console_write("\n");
}

void hil_app_fault(const hil_fault *fault)
{
    console_number("fault, exception ", (int32_t)fault->exception);
    console_number("pc ", (int32_t)fault->pc);
}

/* ---- 1. Instructions ---------------------------------------------------------------------- */

static int check_instructions(void)
{
    for (int32_t i = 0; i < INSTRUCTION_CHECKS; ++i) {
        const uint32_t a = random_operand(), b = random_operand(), c = random_operand();
        const int mismatch = hil_halfwords((int32_t)a, (int32_t)b) != hil_c_halfwords((int32_t)a, (int32_t)b) ||
                             hil_sxtb16(a) != hil_c_sxtb16(a) || hil_sxtb16_ror8(a) != hil_c_sxtb16_ror8(a) ||
                             hil_smlad(a, b, (int32_t)c) != hil_c_smlad(a, b, (int32_t)c) ||
                             hil_smlabb(a, b, (int32_t)c) != hil_c_smlabb(a, b, (int32_t)c) ||
                             hil_smlabt(a, b, (int32_t)c) != hil_c_smlabt(a, b, (int32_t)c) ||
                             hil_smlatb(a, b, (int32_t)c) != hil_c_smlatb(a, b, (int32_t)c) ||
                             hil_smmulr((int32_t)a, (int32_t)b) != hil_c_smmulr((int32_t)a, (int32_t)b) ||
                             hil_smmlar((int32_t)a, (int32_t)b, (int32_t)c) !=
                                 hil_c_smmlar((int32_t)a, (int32_t)b, (int32_t)c) ||
                             hil_ssat8((int32_t)a) != hil_c_ssat8((int32_t)a) ||
                             hil_ssat8((int32_t)a >> 1) != hil_c_ssat8((int32_t)a >> 1);
        if (mismatch) {
            console_number("instruction mismatch, operand a ", (int32_t)a);
            console_number("b ", (int32_t)b);
            console_number("c ", (int32_t)c);
            return 0;
        }
    }
    return 1;
}

/* ---- 2. Requantization -------------------------------------------------------------------- */

static int check_requantization(void)
{
    for (int32_t i = 0; i < REQUANTIZE_CHECKS; ++i) {
        const int32_t shift = random_in(-31, 30);
        const int32_t multiplier = (next_random() % 8u) == 0u ? random_in(0, 3) : (int32_t)(next_random() >> 1);
        const int32_t left = shift > 0 ? shift : 0;
        const int32_t limit = (int32_t)(((1u << 30) - 1u) >> left); /* |x << left| < 2^30 */
        int32_t x;
        switch (next_random() % 4u) {
        case 0:
            x = (next_random() & 1u) ? limit : -limit;
            break;
        case 1:
            x = random_in(-1000, 1000);
            break;
        default:
            x = (int32_t)(next_random() % (2u * (uint32_t)limit + 1u)) - limit;
            break;
        }
        if (x > limit || x < -limit) {
            x = 0;
        }
        const int32_t offset = random_in(-128, 127);
        const int32_t expected = hil_multiply_by_quantized_multiplier(x, multiplier, shift);
        int mismatch = hil_requantize_bounded(x, multiplier, shift) != expected;
        if (shift < 0) {
            const int32_t twice = hil_requant_twice(hil_requant_high(x, multiplier, 1), -shift, 2 * offset + 1);
            mismatch = mismatch || hil_ssat8(twice >> 1) != hil_c_ssat8(expected + offset);
        }
        if (shift < 0 && shift >= -HIL_REQUANT_FUSED_MAX_SHIFT) {
            const int32_t term = hil_requant_fused_term(-shift, offset);
            mismatch = mismatch || hil_ssat8(hil_requant_fused(2 * x, multiplier, -shift, term) >> 1) !=
                                       hil_c_ssat8(expected + offset);
        }
        if (mismatch) {
            console_number("requantization mismatch, x ", x);
            console_number("multiplier ", multiplier);
            console_number("shift ", shift);
            return 0;
        }
    }
    return 1;
}

/* ---- 3-5. Kernels ------------------------------------------------------------------------- */

static int8_t input[MAX_ELEMENTS];
static int8_t filter[MAX_FILTER];     /* OHWI, or (channels, 9) for the depthwise case */
static int8_t packed[MAX_FILTER + 4 * MAX_CHANNELS] __attribute__((aligned(4)));
static int32_t bias[MAX_CHANNELS], folded[MAX_CHANNELS], multipliers[MAX_CHANNELS];
static int8_t shifts[MAX_CHANNELS];
static int8_t expected[MAX_ELEMENTS], dsp_output[MAX_ELEMENTS], portable_output[MAX_ELEMENTS];
static uint8_t scratch[SCRATCH_BYTES] __attribute__((aligned(16)));

typedef hil_status (*packed_kernel)(const hil_conv_packed_params *p, const int8_t *input, int8_t *output,
                                    void *scratch, size_t scratch_bytes);

/* TFLite's output size and leading padding for SAME (same = 1) or VALID; 0 when VALID does not fit. */
static int32_t geometry(int same, int32_t image, int32_t filter_size, int32_t stride, int32_t dilation,
                        int16_t *pad)
{
    const int32_t effective = (filter_size - 1) * dilation + 1;
    const int32_t outputs = same ? (image + stride - 1) / stride : (image - effective + stride) / stride;
    const int32_t total = (outputs - 1) * stride + effective - image;
    *pad = (int16_t)(total > 0 ? total / 2 : 0);
    return outputs;
}

/* Filter, bias and requantization of a random layer with `taps` taps per output channel. */
static void random_layer(hil_conv_packed_params *p, int32_t channels, int32_t taps)
{
    p->input_zero_point = random_in(-128, 127);
    p->output_offset = random_in(-128, 127);
    if (next_random() % 2u) {
        p->act_min = INT8_MIN;
        p->act_max = INT8_MAX;
    } else {
        p->act_min = random_in(-128, 0);
        p->act_max = random_in(p->act_min, 127);
    }
    for (int32_t i = 0; i < channels * taps; ++i) {
        filter[i] = (int8_t)random_in(-127, 127);
    }
    for (int32_t c = 0; c < channels; ++c) {
        int32_t sum = 0;
        for (int32_t t = 0; t < taps; ++t) {
            sum += filter[c * taps + t];
        }
        bias[c] = random_in(-50000, 50000);
        folded[c] = bias[c] - p->input_zero_point * sum;
        multipliers[c] = (int32_t)(0x40000000u + (next_random() >> 2));
        shifts[c] = (int8_t)random_in(-12, 1); /* the accumulators here stay far below 2^29 */
    }
    p->folded_bias = folded;
    p->multiplier = multipliers;
    p->shift = shifts;
    p->packed_filter = packed;
}

/* The packed order of hil_conv.h: K4 taps per channel, channel pairs interleaved by groups of 4. */
static void pack_filter(int32_t channels, int32_t taps)
{
    const int32_t k4 = (taps + 3) & ~3;
    memset(packed, 0, sizeof(packed));
    for (int32_t c = 0; c < channels; ++c) {
        const int32_t pair = c / 2, in_pair = c % 2, alone = (c == channels - 1) && (channels % 2 == 1);
        for (int32_t t = 0; t < taps; ++t) {
            const int32_t at = alone ? pair * 2 * k4 + t : pair * 2 * k4 + (t / 4) * 8 + in_pair * 4 + t % 4;
            packed[at] = filter[c * taps + t];
        }
    }
}

static void random_input(int32_t count)
{
    for (int32_t i = 0; i < count; ++i) {
        input[i] = (int8_t)(next_random() % 4u == 0u ? (next_random() % 2u ? 127 : -128) : random_in(-128, 127));
    }
}

/* The reference: TFLite's per-channel convolution (depthwise when `depthwise`), padding taps skipped. */
static void reference_conv(const hil_conv_packed_params *p, int depthwise)
{
    const hil_shape4 in = p->input, out = p->output, f = p->filter;
    for (int32_t oy = 0; oy < out.h; ++oy) {
        for (int32_t ox = 0; ox < out.w; ++ox) {
            for (int32_t oc = 0; oc < out.c; ++oc) {
                int32_t acc = bias[oc];
                for (int32_t fy = 0; fy < f.h; ++fy) {
                    const int32_t y = oy * p->stride_h - p->pad_h + fy * p->dilation_h;
                    for (int32_t fx = 0; fx < f.w; ++fx) {
                        const int32_t x = ox * p->stride_w - p->pad_w + fx * p->dilation_w;
                        if (y < 0 || y >= in.h || x < 0 || x >= in.w) {
                            continue;
                        }
                        const int8_t *pixel = input + (y * in.w + x) * in.c;
                        if (depthwise) {
                            const int32_t ic = oc / (out.c / in.c); /* the depth multiplier's input channel */
                            acc += filter[oc * 9 + fy * 3 + fx] * (pixel[ic] - p->input_zero_point);
                        } else {
                            for (int32_t ic = 0; ic < in.c; ++ic) {
                                acc += filter[((oc * f.h + fy) * f.w + fx) * in.c + ic] *
                                       (pixel[ic] - p->input_zero_point);
                            }
                        }
                    }
                }
                const int32_t scaled = hil_multiply_by_quantized_multiplier(acc, multipliers[oc], shifts[oc]);
                expected[(oy * out.w + ox) * out.c + oc] =
                    (int8_t)hil_clamp(scaled + p->output_offset, p->act_min, p->act_max);
            }
        }
    }
}

/* Both builds of the kernel against the reference; 0 and a description on the first difference. */
static int run_case(const hil_conv_packed_params *p, packed_kernel dsp, packed_kernel portable, int32_t index)
{
    const int32_t count = p->output.h * p->output.w * p->output.c;
    memset(dsp_output, 0x55, sizeof(dsp_output));
    memset(portable_output, 0x55, sizeof(portable_output));
    const hil_status dsp_status = dsp(p, input, dsp_output, scratch, sizeof(scratch));
    const hil_status portable_status = portable(p, input, portable_output, scratch, sizeof(scratch));
    if (dsp_status != HIL_OK || portable_status != HIL_OK) {
        console_number("kernel refused case ", index);
        return 0;
    }
    for (int32_t i = 0; i < count; ++i) {
        if (dsp_output[i] != expected[i] || portable_output[i] != expected[i]) {
            console_number("kernel mismatch, case ", index);
            console_number("output ", i);
            console_number("dsp ", dsp_output[i]);
            console_number("portable ", portable_output[i]);
            console_number("reference ", expected[i]);
            return 0;
        }
    }
    return 1;
}

static int check_pointwise(void)
{
    for (int32_t index = 0; index < KERNEL_CASES; ++index) {
        hil_conv_packed_params p;
        memset(&p, 0, sizeof(p));
        const int32_t in_c = random_in(1, 40), out_c = random_in(1, 20);
        p.input = (hil_shape4){1, random_in(1, 3), random_in(1, 5), in_c};
        p.output = (hil_shape4){1, p.input.h, p.input.w, out_c};
        p.filter = (hil_shape4){out_c, 1, 1, in_c};
        p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
        random_layer(&p, out_c, in_c);
        p.chunk_pixels = 2 * random_in(1, 8); /* the compiler's choice; small ones split the layer */
        pack_filter(out_c, in_c);
        random_input(p.input.h * p.input.w * in_c);
        reference_conv(&p, 0);
        if (!run_case(&p, hil_conv_1x1_s8, portable_conv_1x1_s8, index)) {
            return 0;
        }
    }
    return 1;
}

static int check_im2col(void)
{
    for (int32_t index = 0; index < KERNEL_CASES; ++index) {
        hil_conv_packed_params p;
        memset(&p, 0, sizeof(p));
        const int32_t in_c = random_in(1, 5), out_c = random_in(1, 9);
        const int32_t kh = random_in(1, 4), kw = random_in(1, 4);
        p.input = (hil_shape4){1, random_in(1, 8), random_in(1, 8), in_c};
        p.filter = (hil_shape4){out_c, kh, kw, in_c};
        p.stride_h = random_in(1, 3);
        p.stride_w = random_in(1, 3);
        p.dilation_h = random_in(1, 2);
        p.dilation_w = random_in(1, 2);
        int same = (int)(next_random() % 2u);
        if (geometry(same, p.input.h, kh, p.stride_h, p.dilation_h, &p.pad_h) < 1 ||
            geometry(same, p.input.w, kw, p.stride_w, p.dilation_w, &p.pad_w) < 1) {
            same = 1;
        }
        p.output = (hil_shape4){1, geometry(same, p.input.h, kh, p.stride_h, p.dilation_h, &p.pad_h),
                                geometry(same, p.input.w, kw, p.stride_w, p.dilation_w, &p.pad_w), out_c};
        random_layer(&p, out_c, kh * kw * in_c);
        p.chunk_pixels = 2 * random_in(1, 8); /* within SCRATCH_BYTES for K up to 80 */
        pack_filter(out_c, kh * kw * in_c);
        random_input(p.input.h * p.input.w * in_c);
        reference_conv(&p, 0);
        if (!run_case(&p, hil_conv_im2col_s8, portable_conv_im2col_s8, index)) {
            return 0;
        }
    }
    return 1;
}

static int check_depthwise(void)
{
    for (int32_t index = 0; index < KERNEL_CASES; ++index) {
        hil_conv_packed_params p;
        memset(&p, 0, sizeof(p));
        const int32_t multiplier = next_random() % 2u ? 1 : random_in(2, 4);
        const int32_t channels = random_in(1, 12 / multiplier), out_c = channels * multiplier;
        p.input = (hil_shape4){1, random_in(1, 9), random_in(1, 9), channels};
        p.filter = (hil_shape4){1, 3, 3, out_c};
        p.stride_h = random_in(1, 3);
        p.stride_w = random_in(1, 3);
        p.dilation_h = p.dilation_w = 1;
        int same = (int)(next_random() % 2u);
        if (geometry(same, p.input.h, 3, p.stride_h, 1, &p.pad_h) < 1 ||
            geometry(same, p.input.w, 3, p.stride_w, 1, &p.pad_w) < 1) {
            same = 1;
        }
        p.output = (hil_shape4){1, geometry(same, p.input.h, 3, p.stride_h, 1, &p.pad_h),
                                geometry(same, p.input.w, 3, p.stride_w, 1, &p.pad_w), out_c};
        random_layer(&p, out_c, 9);
        memcpy(packed, filter, (size_t)out_c * 9); /* each output channel's 9 taps together */
        random_input(p.input.h * p.input.w * channels);
        reference_conv(&p, 1);
        if (!run_case(&p, hil_depthwise_conv_3x3_s8, portable_depthwise_conv_3x3_s8, index)) {
            return 0;
        }
    }
    return 1;
}

int main(void)
{
    if (!check_instructions()) {
        return 1;
    }
    if (!check_requantization()) {
        return 2;
    }
    if (!check_pointwise()) {
        return 3;
    }
    if (!check_im2col()) {
        return 4;
    }
    if (!check_depthwise()) {
        return 5;
    }
    console_write("kernel self-test passed\n");
    return 0;
}
