/*
 * Element-wise multiplication, int8 * int8 -> int8 (TFLite MUL, reference_integer_ops::Mul and
 * BroadcastMul*DSlow), with 4-D broadcasting as hil_add.h describes it (strides of 0 broadcast).
 *
 * Arithmetic, per element, in int32 (rounding by hil_fixedpoint.h):
 *   y = clamp(mbqm((x1 + input1_offset) * (x2 + input2_offset), output_multiplier, output_shift)
 *             + output_offset, act_min, act_max)
 * Ranges: input offsets in [-127, 128], output_offset in [-128, 127], output_multiplier >= 0,
 * output_shift in [-31, 30], -128 <= act_min <= act_max <= 127. Scratch: none.
 */
#ifndef HIL_MUL_H
#define HIL_MUL_H

#include "hil_types.h"

typedef struct {
    hil_shape4 output;
    int32_t input1_strides[4]; /* elements per step along n, h, w, c; 0 broadcasts */
    int32_t input2_strides[4];
    int32_t input1_offset;     /* minus the input 1 zero point */
    int32_t input2_offset;     /* minus the input 2 zero point */
    int32_t output_offset;     /* the output zero point */
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} hil_mul_params;

hil_status hil_mul_s8(const hil_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* HIL_MUL_H */
