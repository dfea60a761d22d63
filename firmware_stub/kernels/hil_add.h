/*
 * Element-wise addition, int8 + int8 -> int8, each tensor with its own scale and zero point
 * (TFLite ADD semantics, reference_integer_ops::Add and BroadcastAdd*DSlow); also TFLite's int8 SUB,
 * which runs these kernels with input2_multiplier negated.
 *
 * Layout: the output is a dense 4-D NHWC tensor. Each input is addressed through one element
 * stride per output dimension (n, h, w, c); a stride of 0 broadcasts that input along the
 * dimension. Missing leading dimensions are 1, so ranks 0 to 4 all fit.
 * Arithmetic, per element, in int32 (as the reference, rounding by hil_fixedpoint.h):
 *   a = (x1 + input1_offset) << left_shift,   b = (x2 + input2_offset) << left_shift
 *   sum = mbqm(a, input1_multiplier, input1_shift) + mbqm(b, input2_multiplier, input2_shift)
 *   y = clamp(mbqm(sum, output_multiplier, output_shift) + output_offset, act_min, act_max)
 * where mbqm is hil_multiply_by_quantized_multiplier with a shift <= 0 (a pure right shift).
 * Ranges: input offsets in [-127, 128], output_offset in [-128, 127], left_shift in [0, 22],
 * shifts in [-31, 0], input1 and output multipliers >= 0 (input2's negative for SUB),
 * -128 <= act_min <= act_max <= 127.
 * Scratch: none.
 */
#ifndef HIL_ADD_H
#define HIL_ADD_H

#include "hil_types.h"

typedef struct {
    hil_shape4 output;
    int32_t input1_strides[4];   /* elements per step along n, h, w, c; 0 broadcasts */
    int32_t input2_strides[4];
    int32_t input1_offset;       /* minus the input 1 zero point */
    int32_t input2_offset;       /* minus the input 2 zero point */
    int32_t output_offset;       /* the output zero point */
    int32_t left_shift;          /* headroom before rescaling: 20 for int8 */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} hil_add_params;

/* Any broadcast the strides describe. */
hil_status hil_add_s8(const hil_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

/* Specialised: both inputs have the output's shape (dense strides), one flat loop. */
hil_status hil_add_elementwise_s8(const hil_add_params *p, const int8_t *input1, const int8_t *input2,
                                  int8_t *output);

#endif /* HIL_ADD_H */
