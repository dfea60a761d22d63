#include "hil_depthwise.h"

#include <stddef.h>
#include <string.h>

#define TAPS_3X3 9

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

/* The nine input pixels under the 3x3 window at (oy, ox); taps in the padding read `padding_row`. */
static void gather_taps_3x3(const hil_conv_params *p, const int8_t *input, const int8_t *padding_row,
                            int32_t b, int32_t oy, int32_t ox, const int8_t *taps[TAPS_3X3])
{
    const int32_t in_y0 = oy * p->stride_h - p->pad_h;
    const int32_t in_x0 = ox * p->stride_w - p->pad_w;
    for (int32_t fy = 0; fy < 3; ++fy) {
        const int32_t in_y = in_y0 + fy;
        for (int32_t fx = 0; fx < 3; ++fx) {
            const int32_t in_x = in_x0 + fx;
            const int inside = in_y >= 0 && in_y < p->input.h && in_x >= 0 && in_x < p->input.w;
            taps[fy * 3 + fx] = inside ? input + pixel_offset(&p->input, b, in_y, in_x) : padding_row;
        }
    }
}

hil_status hil_depthwise_conv_3x3_s8(const hil_conv_params *p, const int8_t *input, int8_t *output,
                                     void *scratch)
{
    const hil_status status = check_depthwise(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    if (scratch == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->filter.h != 3 || p->filter.w != 3 || p->output.c != p->input.c ||
        p->dilation_h != 1 || p->dilation_w != 1) {
        return HIL_ERROR_UNSUPPORTED;
    }
    const hil_shape4 out = p->output;
    const int32_t channels = out.c;
    /* The input zero point: (value + input_offset) is 0 there, so padding taps add nothing. */
    int8_t *padding_row = (int8_t *)scratch;
    memset(padding_row, (int8_t)-p->input_offset, (size_t)channels);

    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t oy = 0; oy < out.h; ++oy) {
            for (int32_t ox = 0; ox < out.w; ++ox) {
                const int8_t *taps[TAPS_3X3];
                gather_taps_3x3(p, input, padding_row, b, oy, ox, taps);
                int8_t *out_pixel = output + pixel_offset(&out, b, oy, ox);
                for (int32_t c = 0; c < channels; ++c) {
                    const int8_t *weights = p->filter_data + c;
                    int32_t acc = 0;
                    for (int32_t t = 0; t < TAPS_3X3; ++t) {
                        acc += (int32_t)weights[(size_t)t * channels] * ((int32_t)taps[t][c] + p->input_offset);
                    }
                    out_pixel[c] = hil_conv_requantize(p, acc, c);
                }
            }
        }
    }
    return HIL_OK;
}
