#include "hil_pool.h"

#include <stddef.h>

#include "hil_fixedpoint.h"

/* The part of one pooling window that lies inside the image, as input coordinates [begin, end). */
typedef struct {
    int32_t y_begin, y_end;
    int32_t x_begin, x_end;
} pool_window;

/* Reduces one channel of a window to a value in [-128, 127]; `column` points at (y_begin, x_begin). */
typedef int32_t (*pool_reduce)(const int8_t *column, const pool_window *w, int32_t row_step, int32_t channels);

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static pool_window window_at(const hil_pool_params *p, int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const pool_window w = {
        max_i32(y0, 0), min_i32(y0 + p->filter_h, p->input.h),
        max_i32(x0, 0), min_i32(x0 + p->filter_w, p->input.w),
    };
    return w;
}

/* Rounded to nearest, ties away from zero, as the reference divides. */
static int32_t reduce_average(const int8_t *column, const pool_window *w, int32_t row_step, int32_t channels)
{
    int32_t sum = 0;
    for (int32_t y = w->y_begin; y < w->y_end; ++y) {
        const int8_t *tap = column + (size_t)(y - w->y_begin) * row_step;
        for (int32_t x = w->x_begin; x < w->x_end; ++x, tap += channels) {
            sum += *tap;
        }
    }
    const int32_t count = (w->y_end - w->y_begin) * (w->x_end - w->x_begin);
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

static int32_t reduce_max(const int8_t *column, const pool_window *w, int32_t row_step, int32_t channels)
{
    int32_t largest = INT8_MIN;
    for (int32_t y = w->y_begin; y < w->y_end; ++y) {
        const int8_t *tap = column + (size_t)(y - w->y_begin) * row_step;
        for (int32_t x = w->x_begin; x < w->x_end; ++x, tap += channels) {
            largest = max_i32(largest, *tap);
        }
    }
    return largest;
}

static hil_status check_pool(const hil_pool_params *p, const int8_t *input, const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    if (p->filter_h < 1 || p->filter_w < 1 || p->filter_h > HIL_POOL_MAX_WINDOW / p->filter_w ||
        p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0 ||
        p->pad_h >= p->filter_h || p->pad_w >= p->filter_w || p->act_min > p->act_max) {
        return HIL_ERROR_ARGUMENT;
    }
    /* Every window must hold an input pixel: the first because pad < filter, the last here. */
    if (p->input.n != p->output.n || p->input.c != p->output.c ||
        (p->output.h - 1) * p->stride_h - p->pad_h >= p->input.h ||
        (p->output.w - 1) * p->stride_w - p->pad_w >= p->input.w) {
        return HIL_ERROR_SHAPE;
    }
    return HIL_OK;
}

static hil_status pool(const hil_pool_params *p, const int8_t *input, int8_t *output, pool_reduce reduce)
{
    const hil_status status = check_pool(p, input, output);
    if (status != HIL_OK) {
        return status;
    }
    const hil_shape4 in = p->input, out = p->output;
    const int32_t row_step = in.w * in.c;
    int8_t *next = output;
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *image = input + (size_t)b * in.h * row_step;
        for (int32_t oy = 0; oy < out.h; ++oy) {
            for (int32_t ox = 0; ox < out.w; ++ox) {
                const pool_window w = window_at(p, oy, ox);
                const int8_t *corner = image + ((size_t)w.y_begin * in.w + w.x_begin) * in.c;
                for (int32_t c = 0; c < out.c; ++c) {
                    *next++ = (int8_t)hil_clamp(reduce(corner + c, &w, row_step, in.c), p->act_min, p->act_max);
                }
            }
        }
    }
    return HIL_OK;
}

hil_status hil_avg_pool_s8(const hil_pool_params *p, const int8_t *input, int8_t *output)
{
    return pool(p, input, output, reduce_average);
}

hil_status hil_max_pool_s8(const hil_pool_params *p, const int8_t *input, int8_t *output)
{
    return pool(p, input, output, reduce_max);
}
