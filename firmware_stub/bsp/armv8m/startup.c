/*
 * Startup and faults of every ARMv8-M board (see armv8m.h).
 *
 * Reset: enable the FPU (before any code that may use it), point VTOR at the board's table, arm
 * the stack limit (MSPLIM, so an overflow faults instead of overwriting .bss), copy .data, zero
 * .bss, paint the unused stack (hil_board_stack_mark, stack.c), enable the configurable faults,
 * run constructors, then stop with main()'s return value.
 *
 * Faults and unexpected interrupts never hang silently: the handler captures the fault, the
 * application reports it over the link (FAULT, docs/protocol.md), then the board stops in its own
 * way (hil_board_fault_stop).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "armv8m.h"
#include "armv8m_regs.h"
#include "hil_board.h"

/* From the board's linker script (armv8m_sections.ld). */
extern uint32_t __hil_stack_start[];
extern uint32_t __hil_data_load[];
extern uint32_t __hil_data_start[];
extern uint32_t __hil_data_end[];
extern uint32_t __hil_bss_start[];
extern uint32_t __hil_bss_end[];
extern uint32_t __hil_ram_start[];
extern uint32_t __hil_ram_end[];
extern void (*__preinit_array_start[])(void);
extern void (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

extern int main(void);

void hil_fault_capture(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));

void hil_reset_handler(void)
{
    ARMV8M_CPACR |= ARMV8M_CPACR_CP10_CP11_FULL; /* floating point from here on */
    armv8m_barrier();

    ARMV8M_VTOR = (uint32_t)(uintptr_t)hil_board_vectors;
    __asm__ volatile("msr msplim, %0" : : "r"(__hil_stack_start) : "memory");

    const uint32_t *from = __hil_data_load;
    for (uint32_t *to = __hil_data_start; to < __hil_data_end;) {
        *to++ = *from++;
    }
    for (uint32_t *to = __hil_bss_start; to < __hil_bss_end;) {
        *to++ = 0u;
    }
    /* Paint the stack below this frame (after .bss is zeroed: the mark is kept in .bss), so that
     * hil_board_stack_used() counts the use since reset until the application marks again. */
    (void)hil_board_stack_mark();

    /* MemManage, BusFault, UsageFault and SecureFault report as themselves, not as HardFault, and a
     * division by zero faults instead of quietly giving 0. */
    ARMV8M_SHCSR |= ARMV8M_SHCSR_MEMFAULTENA | ARMV8M_SHCSR_BUSFAULTENA | ARMV8M_SHCSR_USGFAULTENA |
                    ARMV8M_SHCSR_SECUREFAULTENA;
    ARMV8M_CCR |= ARMV8M_CCR_DIV_0_TRP;
    armv8m_barrier();

    for (void (**init)(void) = __preinit_array_start; init < __preinit_array_end; ++init) {
        (*init)();
    }
    for (void (**init)(void) = __init_array_start; init < __init_array_end; ++init) {
        (*init)();
    }

    hil_board_exit(main());
    for (;;) {
    }
}

/* No stack is trusted here: mask interrupts, drop the stack limit (the report needs a few hundred
 * bytes, even after an overflow), find the frame the exception stacked, and hand over to C. */
void hil_fault_entry(void)
{
    __asm__ volatile(
        "cpsid i\n\t"
        "movs r0, #0\n\t"
        "msr msplim, r0\n\t"
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b hil_fault_capture\n");
}

void hil_fault_capture(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    hil_fault fault;
    fault.exception = ipsr & ARMV8M_IPSR_EXCEPTION_MASK;
    /* The stacked frame is r0-r3, r12, lr, pc, xpsr; read it only if it lies in RAM. */
    const uintptr_t at = (uintptr_t)frame;
    const int readable = at >= (uintptr_t)__hil_ram_start && at + 32u <= (uintptr_t)__hil_ram_end;
    fault.lr = readable ? frame[5] : HIL_FAULT_NO_FRAME;
    fault.pc = readable ? frame[6] : HIL_FAULT_NO_FRAME;
    fault.xpsr = readable ? frame[7] : HIL_FAULT_NO_FRAME;
    fault.sp = (uint32_t)at;
    fault.exc_return = exc_return;
    fault.cfsr = ARMV8M_CFSR;
    fault.hfsr = ARMV8M_HFSR;
    fault.sfsr = ARMV8M_SFSR;
    fault.mmfar = ARMV8M_MMFAR;
    fault.bfar = ARMV8M_BFAR;
    fault.sfar = ARMV8M_SFAR;
    hil_app_fault(&fault);
    hil_board_fault_stop(&fault);
}

/* No heap (the linker scripts reserve none): malloc returns NULL with errno = ENOMEM. Defined
 * here so that library code that merely references malloc (newlib's stdio) still links. */
void *_sbrk(ptrdiff_t increment);
void *_sbrk(ptrdiff_t increment)
{
    (void)increment;
    errno = ENOMEM;
    return (void *)-1;
}
