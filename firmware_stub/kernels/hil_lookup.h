/*
 * Elementwise int8 functions by table: y[i] = table[(uint8_t)x[i]].
 *
 * Any int8 operator of one input is a function of 256 values; the compiler computes the table
 * with the reference kernel's arithmetic (TFLite RELU, RELU6, LEAKY_RELU, LOGISTIC, HARD_SWISH),
 * so the kernel only looks values up. Layout: any; input and output hold `size` values and may
 * be the same buffer. Scratch: none.
 */
#ifndef HIL_LOOKUP_H
#define HIL_LOOKUP_H

#include "hil_types.h"

typedef struct {
    int32_t size;
    const int8_t *table; /* 256 values, indexed by the input byte (x & 0xFF) */
} hil_lookup_params;

hil_status hil_lookup_s8(const hil_lookup_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_LOOKUP_H */
