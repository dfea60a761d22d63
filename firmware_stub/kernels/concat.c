#include "hil_concat.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

hil_status hil_concat_s8(const hil_concat_params *p, ...)
{
    if (p == NULL || p->slice_bytes == NULL || p->count < 1 || p->count > HIL_CONCAT_MAX_INPUTS || p->outer < 0) {
        return HIL_ERROR_ARGUMENT;
    }
    const int8_t *inputs[HIL_CONCAT_MAX_INPUTS];
    va_list args;
    va_start(args, p);
    for (int32_t i = 0; i < p->count; ++i) {
        inputs[i] = va_arg(args, const int8_t *);
    }
    int8_t *output = va_arg(args, int8_t *);
    va_end(args);
    for (int32_t i = 0; i < p->count; ++i) {
        if (inputs[i] == NULL || p->slice_bytes[i] < 0) {
            return HIL_ERROR_ARGUMENT;
        }
    }
    if (output == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    /* Output slice by output slice, each input's slice in turn: both sides read and written in order. */
    for (int32_t slice = 0; slice < p->outer; ++slice) {
        for (int32_t i = 0; i < p->count; ++i) {
            const size_t bytes = (size_t)p->slice_bytes[i];
            memcpy(output, inputs[i] + (size_t)slice * bytes, bytes);
            output += bytes;
        }
    }
    return HIL_OK;
}
