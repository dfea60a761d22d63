#include "hil_mean.h"

#include <stddef.h>

#include "hil_fixedpoint.h"

/* Sum of the int8 values at base + the offsets spanned by the reduced runs. */
static int32_t sum_reduced(const hil_mean_params *p, const int8_t *base)
{
    const int32_t *dims = p->reduced_dims, *strides = p->reduced_strides;
    int32_t sum = 0;
    for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
        const int8_t *line = base + (ptrdiff_t)i0 * strides[0];
        for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
            sum += line[(ptrdiff_t)i1 * strides[1]];
        }
    }
    return sum;
}

static int8_t mean_of_sum(const hil_mean_params *p, int32_t sum)
{
    const int32_t scaled = hil_multiply_by_quantized_multiplier(sum + p->sum_offset, p->multiplier, p->shift);
    return (int8_t)hil_clamp(scaled + p->output_offset, INT8_MIN, INT8_MAX);
}

/* sums[j] += line[j + i * stride] for j < 4, i < count: four columns down one run. */
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

static int check_runs(const int32_t *dims, const int32_t *strides)
{
    for (int32_t i = 0; i < HIL_MEAN_RUNS; ++i) {
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
    if (!check_runs(p->kept_dims, p->kept_strides) || !check_runs(p->reduced_dims, p->reduced_strides)) {
        return HIL_ERROR_SHAPE;
    }
    const int32_t *dims = p->kept_dims, *strides = p->kept_strides;
    const int32_t *reduced_dims = p->reduced_dims, *reduced_strides = p->reduced_strides;
    int8_t *out = output;
    for (int32_t k0 = 0; k0 < dims[0]; ++k0) {
        const int8_t *line = input + (ptrdiff_t)k0 * strides[0];
        int32_t k1 = 0;
        /*
         * Outputs whose inputs are consecutive bytes (an inner kept run of stride 1): the reduced
         * runs are walked once per 4 outputs, with their 4 sums in registers.
         */
        for (; strides[1] == 1 && k1 + 4 <= dims[1]; k1 += 4) {
            int32_t sums[4] = {0, 0, 0, 0};
            for (int32_t i0 = 0; i0 < reduced_dims[0]; ++i0) {
                add_columns(line + k1 + (ptrdiff_t)i0 * reduced_strides[0], reduced_dims[1], reduced_strides[1], sums);
            }
            for (int32_t j = 0; j < 4; ++j) {
                *out++ = mean_of_sum(p, sums[j]);
            }
        }
        for (; k1 < dims[1]; ++k1) {
            *out++ = mean_of_sum(p, sum_reduced(p, line + (ptrdiff_t)k1 * strides[1]));
        }
    }
    return HIL_OK;
}
