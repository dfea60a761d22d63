/* Types shared by every kernel and by the generated model code. */
#ifndef HIL_TYPES_H
#define HIL_TYPES_H

#include <stdint.h>

typedef enum {
    HIL_OK = 0,
    HIL_ERROR_ARGUMENT = 1,    /* NULL pointer or a parameter outside its documented range */
    HIL_ERROR_SHAPE = 2,       /* tensor shapes that do not fit together */
    HIL_ERROR_UNSUPPORTED = 3, /* a valid combination this kernel (or board) does not implement */
    HIL_ERROR_CLOSED = 4,      /* the link is gone (host build: the harness closed its socket) */
    HIL_ERROR_TIMEOUT = 5,     /* the hardware never signalled ready within its bound (a board's clocks) */
    HIL_ERROR_OVERRUN = 6      /* received bytes were lost (a UART overrun or a full receive buffer) */
} hil_status;

/*
 * Keeps a hot loop in a function of its own: inlined into a large caller, GCC's register
 * allocator spills the loop's running sums to the stack, one load and one store per use.
 */
#define HIL_NOINLINE __attribute__((noinline))

/* A 4-D shape. Activations are NHWC; conv filters are OHWI (n = output channels). */
typedef struct {
    int32_t n, h, w, c;
} hil_shape4;

static inline int32_t hil_shape4_size(const hil_shape4 *s)
{
    return s->n * s->h * s->w * s->c;
}

#endif /* HIL_TYPES_H */
