/*
 * 2-D pooling, int8 in / int8 out with the same scale and zero point
 * (TFLite AVERAGE_POOL_2D and MAX_POOL_2D, reference_integer_ops::AveragePool / MaxPool).
 *
 * Layout: input and output NHWC with the same batch and channel counts.
 * Windows: filter_h x filter_w at stride (stride_h, stride_w), starting pad_h/pad_w before the
 * image; taps in the padding are left out (they are not zeros).
 * hil_avg_pool_s8: the sum of the raw int8 values in the window divided by the number of taps
 *   inside the image, rounded half away from zero; then clamped to [act_min, act_max].
 * hil_max_pool_s8: the largest raw value in the window, clamped to [act_min, act_max].
 * Ranges: 1 <= filter_h * filter_w <= HIL_POOL_MAX_WINDOW (the sum is int32),
 * -128 <= act_min <= act_max <= 127; every window must hold at least one input pixel.
 * Scratch: none.
 */
#ifndef HIL_POOL_H
#define HIL_POOL_H

#include "hil_types.h"

#define HIL_POOL_MAX_WINDOW (1 << 23) /* 128 * window stays far inside int32 */

typedef struct {
    hil_shape4 input;
    hil_shape4 output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;        /* top and left padding; bottom/right follow from the shapes */
    int32_t act_min, act_max;
} hil_pool_params;

hil_status hil_avg_pool_s8(const hil_pool_params *p, const int8_t *input, int8_t *output);

hil_status hil_max_pool_s8(const hil_pool_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_POOL_H */
