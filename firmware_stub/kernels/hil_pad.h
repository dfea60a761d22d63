/*
 * Constant padding, int8 (TFLite PAD and PADV2): the input placed inside a larger output whose
 * other values are `pad_value` (the zero point for PAD, the given constant for PADV2).
 *
 * Layout: input and output dense 4-D NHWC (missing leading dimensions are 1); output dimension d
 * is before[d] + input dimension d + after[d], the input starting at before[d]. No arithmetic.
 * Ranges: before[d] >= 0, output dimensions >= the input's plus before. Input and output must
 * not overlap. Scratch: none.
 */
#ifndef HIL_PAD_H
#define HIL_PAD_H

#include "hil_types.h"

typedef struct {
    hil_shape4 input;
    hil_shape4 output;
    int32_t before[4]; /* padding ahead of the input along n, h, w, c */
    int32_t pad_value;
} hil_pad_params;

hil_status hil_pad_s8(const hil_pad_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_PAD_H */
