/*
 * Stack high-water mark, for boards whose startup paints the stack at reset. Implemented by
 * mps2-an505 only so far (not by the host board): a build that calls it elsewhere fails to link.
 */
#ifndef HIL_BOARD_STACK_H
#define HIL_BOARD_STACK_H

#include <stdint.h>

/* Bytes of the stack ever used since reset (the deepest point reached, found by scanning the paint). */
uint32_t hil_board_stack_high_water(void);

#endif /* HIL_BOARD_STACK_H */
