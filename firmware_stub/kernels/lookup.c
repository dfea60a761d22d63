#include "hil_lookup.h"

#include <stddef.h>

hil_status hil_lookup_s8(const hil_lookup_params *p, const int8_t *input, int8_t *output)
{
    if (p == NULL || p->table == NULL || input == NULL || output == NULL || p->size < 0) {
        return HIL_ERROR_ARGUMENT;
    }
    const uint8_t *in = (const uint8_t *)input;
    const int8_t *table = p->table;
    int32_t i = 0;
    /* Four per iteration: the loop overhead is most of the cost of one lookup. */
    for (; i + 4 <= p->size; i += 4) {
        const int8_t a = table[in[i]], b = table[in[i + 1]], c = table[in[i + 2]], d = table[in[i + 3]];
        output[i] = a;
        output[i + 1] = b;
        output[i + 2] = c;
        output[i + 3] = d;
    }
    for (; i < p->size; ++i) {
        output[i] = table[in[i]];
    }
    return HIL_OK;
}
