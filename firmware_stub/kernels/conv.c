#include "hil_conv.h"

#include <stddef.h>

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

hil_status hil_conv_1x1_s8(const hil_conv_params *p, const int8_t *input, int8_t *output)
{
    const hil_status status = check_conv(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    if (p->filter.h != 1 || p->filter.w != 1 || p->stride_h != 1 || p->stride_w != 1 ||
        p->pad_h != 0 || p->pad_w != 0 || p->filter.c != p->input.c ||
        p->input.h != p->output.h || p->input.w != p->output.w) {
        return HIL_ERROR_UNSUPPORTED;
    }
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    const int32_t in_c = p->input.c, out_c = p->output.c;
    for (int32_t px = 0; px < pixels; ++px) {
        const int8_t *pixel = input + (size_t)px * in_c;
        for (int32_t oc = 0; oc < out_c; ++oc) {
            const int8_t *taps = p->filter_data + (size_t)oc * in_c;
            int32_t acc = 0;
            for (int32_t ic = 0; ic < in_c; ++ic) {
                acc += (int32_t)taps[ic] * ((int32_t)pixel[ic] + p->input_offset);
            }
            output[(size_t)px * out_c + oc] = hil_conv_requantize(p, acc, oc);
        }
    }
    return HIL_OK;
}
