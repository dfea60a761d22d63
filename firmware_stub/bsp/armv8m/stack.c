/*
 * Stack use measured by painting, for every ARMv8-M board (hil_board.h). The stack is the linker
 * script's .stack section, __hil_stack_start .. __hil_stack_end, growing down.
 *
 * hil_board_stack_mark paints every word from the bottom of the stack up to its caller's stack
 * pointer; hil_board_stack_used scans up from the bottom for the first word that is no longer
 * the pattern: the deepest point reached since the mark. Both are naked assembly using only
 * r0-r3 and r12: neither has a frame, so the mark is exactly the caller's SP and no word below it
 * is written by the measuring itself (C would push a register here and there, which would count
 * as used, and a C paint loop could become a memset call whose frame sits in the painted area).
 * The reset handler marks once .bss is zeroed (the mark is kept in .bss), so before the
 * application's first mark the use since reset is reported. The paint is 0xA5A5A5A5 (movw/movt
 * #0xA5A5 below).
 */
#include <stddef.h>
#include <stdint.h>

#include "hil_board.h"

extern uint32_t __hil_stack_start[];
extern uint32_t __hil_stack_end[];

/* The last mark: the stack pointer of hil_board_stack_mark's caller (read by name from assembly). */
static uint32_t *stack_mark __attribute__((used));

/* The assembly returns these as immediates. */
typedef char hil_status_values_as_in_assembly[(HIL_OK == 0 && HIL_ERROR_ARGUMENT == 1) ? 1 : -1];

__attribute__((naked)) hil_status hil_board_stack_mark(void)
{
    __asm__ volatile(
        "mov r2, sp\n\t"
        "movw r1, #:lower16:stack_mark\n\t"
        "movt r1, #:upper16:stack_mark\n\t"
        "str r2, [r1]\n\t"
        "movw r0, #:lower16:__hil_stack_start\n\t"
        "movt r0, #:upper16:__hil_stack_start\n\t"
        "movw r1, #0xA5A5\n\t"
        "movt r1, #0xA5A5\n"
        "1:\n\t"
        "cmp r0, r2\n\t"
        "bhs 2f\n\t"
        "str r1, [r0], #4\n\t"
        "b 1b\n"
        "2:\n\t"
        "movs r0, #0\n\t" /* HIL_OK */
        "bx lr\n");
}

__attribute__((naked)) hil_status hil_board_stack_used(uint32_t *bytes)
{
    (void)bytes; /* r0 */
    __asm__ volatile(
        "cbz r0, 3f\n\t"
        "movw r1, #:lower16:stack_mark\n\t"
        "movt r1, #:upper16:stack_mark\n\t"
        "ldr r1, [r1]\n\t" /* top: the mark */
        "movw r2, #:lower16:__hil_stack_start\n\t"
        "movt r2, #:upper16:__hil_stack_start\n\t"
        "movw r3, #0xA5A5\n\t"
        "movt r3, #0xA5A5\n"
        "1:\n\t"
        "cmp r2, r1\n\t"
        "bhs 2f\n\t"
        "ldr r12, [r2]\n\t"
        "cmp r12, r3\n\t"
        "bne 2f\n\t"
        "adds r2, r2, #4\n\t"
        "b 1b\n"
        "2:\n\t"
        "subs r1, r1, r2\n\t"
        "str r1, [r0]\n\t"
        "movs r0, #0\n\t" /* HIL_OK */
        "bx lr\n"
        "3:\n\t"
        "movs r0, #1\n\t" /* HIL_ERROR_ARGUMENT */
        "bx lr\n");
}

hil_status hil_board_stack_size(uint32_t *bytes)
{
    if (bytes == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    *bytes = (uint32_t)((uintptr_t)__hil_stack_end - (uintptr_t)__hil_stack_start);
    return HIL_OK;
}
