/*
 * Mean over constant axes, int8 in / int8 out (TFLite MEAN, LiteRT reference semantics: for int8
 * the reference resolver always runs QuantizedMeanOrSum, whatever the axes, keep_dims or scales).
 *
 * Layout: the input (rank <= 4, row-major) is walked as two loop nests given by the compiler:
 * the kept axes (in input order, so the output is written in order; keep_dims does not change
 * the bytes) and the reduced axes, each as 2 (size, stride in elements) pairs, outer first; an
 * unused entry is (1, 0). Two suffice: with axes of size 1 dropped and neighbouring axes of one
 * kind merged into one run, kept and reduced runs alternate, so rank 4 has at most 2 of each.
 * Arithmetic: sum = sum of the raw int8 values over the reduced axes, in int32;
 * out = multiply_by_quantized_multiplier(sum + sum_offset, multiplier, shift) + output_offset,
 * clamped to [-128, 127]. sum_offset = -input_zero_point * count; multiplier and shift are the
 * input/output scale ratio with the 1/count factor folded in, as the reference does.
 * An inner kept run of stride 1 (the channels of a global average pool) is summed 4 outputs at a
 * time, in one walk of the reduced axes.
 * Ranges: count = product of the reduced sizes, 1 <= count <= 2^23 (so the sums fit int32);
 * output_offset in [-128, 127]; shift in [-31, 30].
 * Scratch: none.
 */
#ifndef HIL_MEAN_H
#define HIL_MEAN_H

#include "hil_types.h"

#define HIL_MEAN_RUNS 2

typedef struct {
    int32_t kept_dims[HIL_MEAN_RUNS];
    int32_t kept_strides[HIL_MEAN_RUNS];
    int32_t reduced_dims[HIL_MEAN_RUNS];
    int32_t reduced_strides[HIL_MEAN_RUNS];
    int32_t sum_offset;     /* -input_zero_point * count */
    int32_t multiplier;     /* Q31 */
    int32_t shift;          /* > 0 shifts left */
    int32_t output_offset;  /* the output zero point */
} hil_mean_params;

hil_status hil_mean_s8(const hil_mean_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_MEAN_H */
