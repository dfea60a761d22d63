/*
 * Data movement: no arithmetic, values are copied unchanged (any element type of one byte).
 *
 * hil_transpose_s8: TFLite TRANSPOSE. Output axis i is input axis perm[i]; rank 1..6.
 * hil_reshape_s8:   TFLite RESHAPE. Same bytes, new shape; a copy unless input == output.
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

#endif /* HIL_DATA_H */
