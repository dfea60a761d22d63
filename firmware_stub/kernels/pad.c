#include "hil_pad.h"

#include <stddef.h>
#include <string.h>

static int inside(int32_t index, int32_t before, int32_t size)
{
    return index >= before && index < before + size;
}

hil_status hil_pad_s8(const hil_pad_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->pad_value < -128 || p->pad_value > 127) {
        return HIL_ERROR_ARGUMENT;
    }
    const hil_shape4 in = p->input, out = p->output;
    const int32_t in_dims[4] = {in.n, in.h, in.w, in.c};
    const int32_t out_dims[4] = {out.n, out.h, out.w, out.c};
    for (int d = 0; d < 4; ++d) {
        if (in_dims[d] < 0 || p->before[d] < 0 || p->before[d] + in_dims[d] > out_dims[d]) {
            return HIL_ERROR_SHAPE;
        }
    }
    const size_t row = (size_t)out.c;
    const size_t before_c = (size_t)p->before[3], after_c = row - before_c - (size_t)in.c;
    /* One output row (all channels of one n, y, x) at a time: padding or [pad | input row | pad]. */
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            for (int32_t x = 0; x < out.w; ++x) {
                if (!inside(b, p->before[0], in.n) || !inside(y, p->before[1], in.h) ||
                    !inside(x, p->before[2], in.w)) {
                    memset(output, p->pad_value, row);
                } else {
                    memset(output, p->pad_value, before_c);
                    memcpy(output + before_c, input, (size_t)in.c);
                    memset(output + before_c + (size_t)in.c, p->pad_value, after_c);
                    input += in.c;
                }
                output += row;
            }
        }
    }
    return HIL_OK;
}
