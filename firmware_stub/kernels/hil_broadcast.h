/*
 * What the two-input elementwise kernels (hil_add.h, hil_mul.h) share: the range of an int8
 * input's offset (minus its zero point) and the check of a dense output with broadcast strides.
 */
#ifndef HIL_BROADCAST_H
#define HIL_BROADCAST_H

#include "hil_types.h"

static inline int hil_input_offset_in_range(int32_t offset)
{
    return offset >= -127 && offset <= 128;
}

/* A non-negative output shape and non-negative element strides (0 broadcasts) for both inputs. */
static inline int hil_broadcast_layout_valid(const hil_shape4 *output, const int32_t strides1[4],
                                             const int32_t strides2[4])
{
    if (output->n < 0 || output->h < 0 || output->w < 0 || output->c < 0) {
        return 0;
    }
    for (int d = 0; d < 4; ++d) {
        if (strides1[d] < 0 || strides2[d] < 0) {
            return 0;
        }
    }
    return 1;
}

#endif /* HIL_BROADCAST_H */
