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

static int8_t mean_of(const hil_mean_params *p, const int8_t *base)
{
    const int32_t centred = sum_reduced(p, base) + p->sum_offset;
    const int32_t scaled = hil_multiply_by_quantized_multiplier(centred, p->multiplier, p->shift);
    return (int8_t)hil_clamp(scaled + p->output_offset, INT8_MIN, INT8_MAX);
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
    const int32_t *dims = p->kept_dims, *strides = p->kept_strides;
    int8_t *out = output;
    for (int32_t k0 = 0; k0 < dims[0]; ++k0) {
        for (int32_t k1 = 0; k1 < dims[1]; ++k1) {
            for (int32_t k2 = 0; k2 < dims[2]; ++k2) {
                const int8_t *line = input + (ptrdiff_t)k0 * strides[0] + (ptrdiff_t)k1 * strides[1] +
                                     (ptrdiff_t)k2 * strides[2];
                for (int32_t k3 = 0; k3 < dims[3]; ++k3) {
                    *out++ = mean_of(p, line + (ptrdiff_t)k3 * strides[3]);
                }
            }
        }
    }
    return HIL_OK;
}
