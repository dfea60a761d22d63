/*
 * Data movement: no arithmetic, values are copied unchanged (any element type of one byte).
 *
 * hil_transpose_s8: TFLite TRANSPOSE. Output axis i is input axis perm[i]; rank 1..6.
 * hil_reshape_s8:   TFLite RESHAPE. Same bytes, new shape; a copy unless input == output.
 * hil_strided_slice_s8: TFLite STRIDED_SLICE. The output (dense, 4-D, missing leading dimensions
 *                   1) is read from input + start, moving input_steps[d] elements (negative to go
 *                   backwards, 0 for a dimension of size 1) per step along output dimension d.
 *                   Input and output must not overlap.
 * Scratch: none.
 */
#ifndef HIL_DATA_H
#define HIL_DATA_H

#include "hil_types.h"

#define HIL_TRANSPOSE_MAX_RANK 6

typedef struct {
    int32_t rank;
    int32_t input_dims[HIL_TRANSPOSE_MAX_RANK];
    int32_t perm[HIL_TRANSPOSE_MAX_RANK];
} hil_transpose_params;

hil_status hil_transpose_s8(const hil_transpose_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t bytes;
} hil_reshape_params;

hil_status hil_reshape_s8(const hil_reshape_params *p, const int8_t *input, int8_t *output);

typedef struct {
    hil_shape4 output;
    int32_t start;          /* element offset of the first value read */
    int32_t input_steps[4]; /* elements per step along n, h, w, c of the output */
} hil_strided_slice_params;

hil_status hil_strided_slice_s8(const hil_strided_slice_params *p, const int8_t *input, int8_t *output);

#endif /* HIL_DATA_H */
