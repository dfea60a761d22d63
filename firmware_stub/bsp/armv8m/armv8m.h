/*
 * What every ARMv8-M (Cortex-M33) board shares, in bsp/armv8m/: the reset handler, the stack
 * painting of hil_board.h, the fault handler and _sbrk. The build adds this folder to the board's
 * own (targets/<id>.toml: build.bsp_shared = "armv8m").
 *
 * A board provides the two hooks below; everything else of hil_board.h stays its own. Its linker
 * script defines the symbols of bsp/armv8m/armv8m_sections.ld (stack, .data, .bss, RAM bounds).
 */
#ifndef HIL_ARMV8M_H
#define HIL_ARMV8M_H

#include <stdint.h>

#include "hil_fault.h"

typedef void (*armv8m_vector)(void);

/* ---- provided by the board ---- */

/*
 * The board's vector table, placed in section .vectors (first in flash): entry 0 the initial
 * stack pointer (__hil_stack_end), entry 1 hil_reset_handler, then the system exceptions and
 * the device's interrupts. Faults and every interrupt the board does not serve go to
 * hil_fault_entry. The reset handler points VTOR at it.
 */
extern const armv8m_vector hil_board_vectors[];

/* After the application's report (hil_app_fault): what the board does with a fault. Interrupts
 * are masked; never returns (QEMU: a text report and exit 128 + exception; a board: stop). */
void hil_board_fault_stop(const hil_fault *fault) __attribute__((noreturn));

/* ---- provided by bsp/armv8m/ for the vector tables ---- */

/* FPU on, VTOR, stack limit, .data, .bss, stack paint, configurable faults, constructors, then
 * hil_board_exit(main()). */
void hil_reset_handler(void) __attribute__((noreturn));

/* Captures the fault (exception, stacked PC/LR/xPSR, SP, EXC_RETURN, the fault status and
 * address registers), calls hil_app_fault, then hil_board_fault_stop. */
void hil_fault_entry(void) __attribute__((naked, noreturn));

#endif /* HIL_ARMV8M_H */
