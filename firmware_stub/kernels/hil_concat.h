/*
 * Concatenation along one axis, int8 (TFLite CONCATENATION; int8 inputs share the output's scale
 * and zero point, so values are copied unchanged).
 *
 * Layout: dense tensors of any rank. Seen from the axis, each tensor is `outer` slices (the
 * product of the dimensions before the axis); input i contributes slice_bytes[i] bytes (its axis
 * dimension times the product of the dimensions after it) to each output slice, in input order.
 * Called as hil_concat_s8(&params, input_0, ..., input_{count-1}, output): one const int8_t *
 * per input, then the int8_t * output. Inputs and output must not overlap. Scratch: none.
 */
#ifndef HIL_CONCAT_H
#define HIL_CONCAT_H

#include "hil_types.h"

#define HIL_CONCAT_MAX_INPUTS 64

typedef struct {
    int32_t count;               /* number of inputs, 1 to HIL_CONCAT_MAX_INPUTS */
    int32_t outer;               /* slices before the axis */
    const int32_t *slice_bytes;  /* per input: bytes of one slice */
} hil_concat_params;

hil_status hil_concat_s8(const hil_concat_params *p, ...);

#endif /* HIL_CONCAT_H */
