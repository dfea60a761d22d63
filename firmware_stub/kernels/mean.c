#include "hil_mean.h"

#include <stddef.h>

#include "hil_fixedpoint.h"

/* Sum of the int8 values at base + the offsets spanned by the reduced axes. */
static int32_t sum_reduced(const hil_mean_params *p, const int8_t *base)
{
    const int32_t *dims = p->reduced_dims, *strides = p->reduced_strides;
    int32_t sum = 0;
    for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
            for (int32_t i2 = 0; i2 < dims[2]; ++i2) {
                const int8_t *line = base + (ptrdiff_t)i0 * strides[0] + (ptrdiff_t)i1 * strides[1] +
                                     (ptrdiff_t)i2 * strides[2];
                for (int32_t i3 = 0; i3 < dims[3]; ++i3) {
                    sum += line[(ptrdiff_t)i3 * strides[3]];
                }
            }
        }
    }
    return sum;
}

static int8_t mean_of_sum(const hil_mean_params *p, int32_t sum)
{
    const int32_t scaled = hil_multiply_by_quantized_multiplier(sum + p->sum_offset, p->multiplier, p->shift);
    return (int8_t)hil_clamp(scaled + p->output_offset, INT8_MIN, INT8_MAX);
}

static int8_t mean_of(const hil_mean_params *p, const int8_t *base)
{
    return mean_of_sum(p, sum_reduced(p, base));
}

/* sums[j] += line[j + i * stride] for j < 4, i < count: four columns down one axis. */
static HIL_NOINLINE void add_columns(const int8_t *line, int32_t count, int32_t stride, int32_t sums[4])
{
    int32_t sum0 = sums[0], sum1 = sums[1], sum2 = sums[2], sum3 = sums[3];
    for (int32_t i = 0; i < count; ++i) {
        sum0 += line[0];
        sum1 += line[1];
        sum2 += line[2];
        sum3 += line[3];
        line += stride;
    }
    sums[0] = sum0;
    sums[1] = sum1;
    sums[2] = sum2;
    sums[3] = sum3;
}

/*
 * `count` consecutive outputs whose inputs are consecutive bytes (a kept axis of stride 1, such as
 * the channels of a global average pool): the reduced nest is walked once per 4 outputs, with
 * their 4 sums in registers, instead of once per output.
 */
static void mean_of_run(const hil_mean_params *p, const int8_t *base, int32_t count, int8_t *out)
{
    const int32_t *dims = p->reduced_dims, *strides = p->reduced_strides;
    int32_t first = 0;
    for (; first + 4 <= count; first += 4) {
        int32_t sums[4] = {0, 0, 0, 0};
        for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
            for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
                for (int32_t i2 = 0; i2 < dims[2]; ++i2) {
                    const int8_t *line = base + first + (ptrdiff_t)i0 * strides[0] + (ptrdiff_t)i1 * strides[1] +
                                         (ptrdiff_t)i2 * strides[2];
                    add_columns(line, dims[3], strides[3], sums);
                }
            }
        }
        for (int32_t j = 0; j < 4; ++j) {
            out[first + j] = mean_of_sum(p, sums[j]);
        }
    }
    for (; first < count; ++first) {
        out[first] = mean_of(p, base + first);
    }
}

static int check_axes(const int32_t *dims, const int32_t *strides)
{
    for (int32_t i = 0; i < HIL_MEAN_MAX_RANK; ++i) {
        if (dims[i] < 1 || strides[i] < 0) {
            return 0;
        }
    }
    return 1;
}

hil_status hil_mean_s8(const hil_mean_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL || p->shift > 30 || p->shift < -31) {
        return HIL_ERROR_ARGUMENT;
    }
    if (!check_axes(p->kept_dims, p->kept_strides) || !check_axes(p->reduced_dims, p->reduced_strides)) {
        return HIL_ERROR_SHAPE;
    }
    /*
     * The kept nest with its innermost axis of more than one position moved last: the axes after
     * it have one position, so the outputs are written in the same order.
     */
    int32_t dims[HIL_MEAN_MAX_RANK], strides[HIL_MEAN_MAX_RANK];
    int32_t last = HIL_MEAN_MAX_RANK - 1;
    while (last > 0 && p->kept_dims[last] == 1) {
        --last;
    }
    for (int32_t i = 0, to = 0; i < HIL_MEAN_MAX_RANK; ++i) {
        if (i != last) {
            dims[to] = p->kept_dims[i];
            strides[to] = p->kept_strides[i];
            ++to;
        }
    }
    dims[3] = p->kept_dims[last];
    strides[3] = p->kept_strides[last];
    const int run = strides[3] == 1;

    int8_t *out = output;
    for (int32_t k0 = 0; k0 < dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < dims[1]; ++k1) {
            for (int32_t k2 = 0; k2 < dims[2]; ++k2) {
                const int8_t *line = input + (ptrdiff_t)k0 * strides[0] + (ptrdiff_t)k1 * strides[1] +
                                     (ptrdiff_t)k2 * strides[2];
                if (run) {
                    mean_of_run(p, line, dims[3], out);
                    out += dims[3];
                    continue;
                }
                for (int32_t k3 = 0; k3 < dims[3]; ++k3) {
                    *out++ = mean_of(p, line + (ptrdiff_t)k3 * strides[3]);
                }
            }
        }
    }
    return HIL_OK;
}
