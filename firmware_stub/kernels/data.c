#include "hil_data.h"

#include <stddef.h>
#include <string.h>

hil_status hil_transpose_s8(const hil_transpose_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->rank < 1 || p->rank > HIL_TRANSPOSE_MAX_RANK) {
        return HIL_ERROR_ARGUMENT;
    }
    const int32_t rank = p->rank;
    int32_t input_stride[HIL_TRANSPOSE_MAX_RANK];
    int32_t stride[HIL_TRANSPOSE_MAX_RANK]; /* input step for one step along each output axis */
    int32_t dims[HIL_TRANSPOSE_MAX_RANK];   /* output dims */
    int32_t index[HIL_TRANSPOSE_MAX_RANK] = {0};
    int32_t total = 1;
    for (int32_t axis = rank - 1; axis >= 0; --axis) {
        if (p->input_dims[axis] < 1) {
            return HIL_ERROR_SHAPE;
        }
        input_stride[axis] = total;
        total *= p->input_dims[axis];
    }
    for (int32_t axis = 0; axis < rank; ++axis) {
        if (p->perm[axis] < 0 || p->perm[axis] >= rank) {
            return HIL_ERROR_ARGUMENT;
        }
        dims[axis] = p->input_dims[p->perm[axis]];
        stride[axis] = input_stride[p->perm[axis]];
    }
    /* Axes of size 1 move nothing: left out, the innermost axis is a real run (the input of an
     * audio model is often [1, H, W, 1], transposed to [1, W, H, 1]). */
    int32_t kept = 0;
    for (int32_t axis = 0; axis < rank; ++axis) {
        if (dims[axis] > 1) {
            dims[kept] = dims[axis];
            stride[kept] = stride[axis];
            ++kept;
        }
    }
    if (kept == 0) {
        output[0] = input[0];
        return HIL_OK;
    }
    /* Walk the output in order: the innermost axis as one loop, an odometer over the others. */
    const int32_t inner = kept - 1, run = dims[inner], step = stride[inner];
    int32_t source = 0;
    for (int32_t written = 0; written < total; written += run) {
        const int8_t *from = input + source;
        for (int32_t i = 0; i < run; ++i) {
            output[written + i] = *from;
            from += step;
        }
        for (int32_t axis = inner - 1; axis >= 0; --axis) {
            source += stride[axis];
            if (++index[axis] < dims[axis]) {
                break;
            }
            source -= stride[axis] * dims[axis];
            index[axis] = 0;
        }
    }
    return HIL_OK;
}

hil_status hil_reshape_s8(const hil_reshape_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->bytes < 0) {
        return HIL_ERROR_ARGUMENT;
    }
    if (input != output) {
        memmove(output, input, (size_t)p->bytes);
    }
    return HIL_OK;
}

hil_status hil_strided_slice_s8(const hil_strided_slice_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->start < 0) {
        return HIL_ERROR_ARGUMENT;
    }
    const hil_shape4 out = p->output;
    if (out.n < 0 || out.h < 0 || out.w < 0 || out.c < 0) {
        return HIL_ERROR_SHAPE;
    }
    const int32_t *step = p->input_steps;
    for (int32_t b = 0; b < out.n; ++b) {
        for (int32_t y = 0; y < out.h; ++y) {
            for (int32_t x = 0; x < out.w; ++x) {
                const int8_t *from = input + p->start + b * step[0] + y * step[1] + x * step[2];
                if (step[3] == 1) {
                    memcpy(output, from, (size_t)out.c);
                } else {
                    for (int32_t c = 0; c < out.c; ++c) {
                        output[c] = from[c * step[3]];
                    }
                }
                output += out.c;
            }
        }
    }
    return HIL_OK;
}
