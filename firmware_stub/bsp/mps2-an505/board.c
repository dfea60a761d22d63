/*
 * QEMU mps2-an505 board: CMSDK APB UART0 for the link, SysTick extended to a 32-bit count of
 * executed instructions, semihosting for exit, stack use measured by painting.
 *
 * The counter needs QEMU's `-icount shift=0`: each guest instruction then advances virtual time
 * by exactly 1 ns, and SysTick (CLKSOURCE = processor clock, 20 MHz on this machine) ticks once
 * every AN505_INSTRUCTIONS_PER_TICK instructions, identically on every run. The count is in
 * instructions, not cycles, and has a granularity of one tick.
 */
#include "hil_board.h"

#include <errno.h>

#include "an505.h"

/* UART0, Secure alias (the CPU runs Secure); 0x40200000 is the Non-secure alias. */
#define UART0_BASE 0x50200000u
#define UART0_DATA AN505_REG(UART0_BASE + 0x00u)
#define UART0_STATE AN505_REG(UART0_BASE + 0x04u)
#define UART0_CTRL AN505_REG(UART0_BASE + 0x08u)
#define UART0_BAUDDIV AN505_REG(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_ENABLE (1u << 0)
#define UART_CTRL_RX_ENABLE (1u << 1)
#define UART_PCLK_HZ 25000000u
#define UART_BAUD 115200u /* QEMU ignores the rate on a socket; it only needs BAUDDIV >= 16 */

/* Measured with -icount shift=0 (tests/test_qemu_board.py): 1 ns per instruction, 50 ns per tick. */
#define AN505_INSTRUCTIONS_PER_TICK 50u

/* SysTick reload: the counter wraps (and the handler counts it) every RELOAD + 1 ticks. The
 * largest 24-bit reload keeps the handler to one run per ~839 M instructions; the self-test
 * builds with a small reload to exercise the wrap handling. */
#ifndef AN505_SYSTICK_RELOAD
#define AN505_SYSTICK_RELOAD 0x00FFFFFFu
#endif
#if AN505_SYSTICK_RELOAD < 1u || AN505_SYSTICK_RELOAD > 0x00FFFFFFu
#error "AN505_SYSTICK_RELOAD must be within 1 .. 0xFFFFFF"
#endif
#define SYSTICK_PERIOD (AN505_SYSTICK_RELOAD + 1u)

#define SEMIHOSTING_SYS_WRITE0 0x04
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20
#define SEMIHOSTING_APPLICATION_EXIT 0x20026u /* ADP_Stopped_ApplicationExit */

static volatile uint32_t systick_wraps;

hil_status hil_board_init(void)
{
    UART0_CTRL = 0u;
    UART0_BAUDDIV = UART_PCLK_HZ / UART_BAUD;
    UART0_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE;
    (void)UART0_DATA; /* without this read QEMU holds the first byte from the host for ~1 s */

    AN505_SYST_CSR = 0u;
    systick_wraps = 0u;
    AN505_SYST_RVR = AN505_SYSTICK_RELOAD;
    hil_board_counter_align();
    return HIL_OK;
}

/* Restarting SysTick restarts QEMU's tick grid at this instant, so code measured from here on
 * starts at the same phase of a 50-instruction tick whatever the host's timing was before. */
void hil_board_counter_align(void)
{
    AN505_SYST_CSR = 0u;
    AN505_ICSR = AN505_ICSR_PENDSTCLR; /* a wrap not yet counted belongs to the old grid */
    AN505_SYST_CVR = 0u; /* any write clears the count; the first tick loads the reload value */
    AN505_SYST_CSR = AN505_SYST_CSR_ENABLE | AN505_SYST_CSR_TICKINT | AN505_SYST_CSR_CLKSOURCE_CPU;
}

hil_status hil_board_uart_read(uint8_t *byte)
{
    if (byte == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    while ((UART0_STATE & UART_STATE_RX_FULL) == 0u) {
    }
    *byte = (uint8_t)UART0_DATA;
    return HIL_OK;
}

hil_status hil_board_uart_write(const uint8_t *data, size_t length)
{
    if (data == NULL && length > 0u) {
        return HIL_ERROR_ARGUMENT;
    }
    for (size_t i = 0; i < length; ++i) {
        while ((UART0_STATE & UART_STATE_TX_FULL) != 0u) { /* QEMU holds TX full until the socket takes the byte */
        }
        UART0_DATA = data[i];
    }
    return HIL_OK;
}

void an505_systick_handler(void)
{
    systick_wraps = systick_wraps + 1u;
}

/*
 * SysTick counts RELOAD, RELOAD-1, ..., 1, 0, RELOAD, ... and pends its exception on reaching 0.
 * The phase within a period is (PERIOD - value) mod PERIOD: 0 at the value 0, when the wrap is
 * counted, then 1, 2, ... With interrupts masked, a wrap that the handler has not counted yet
 * shows as a pending SysTick: count it here and re-read the value, which is then past the wrap.
 * Everything is modulo 2^32, as the result is.
 */
uint32_t hil_board_counter(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    uint32_t wraps = systick_wraps;
    uint32_t value = AN505_SYST_CVR;
    if ((AN505_ICSR & AN505_ICSR_PENDSTSET) != 0u) {
        wraps += 1u;
        value = AN505_SYST_CVR;
    }
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
    const uint32_t phase = value == 0u ? 0u : SYSTICK_PERIOD - value;
    return (wraps * SYSTICK_PERIOD + phase) * AN505_INSTRUCTIONS_PER_TICK;
}

hil_counter_unit hil_board_counter_unit(void)
{
    return HIL_COUNTER_INSTRUCTIONS;
}

hil_status hil_board_counter_hz(uint32_t *hz)
{
    (void)hz;
    return HIL_ERROR_UNSUPPORTED; /* instructions have no fixed rate: they are not time */
}

hil_reset_reason hil_board_reset_reason(void)
{
    return HIL_RESET_POWER_ON; /* QEMU always starts from power-on */
}

static int semihosting_call(int operation, const void *argument)
{
    register int r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void an505_semihosting_write(const char *text)
{
    (void)semihosting_call(SEMIHOSTING_SYS_WRITE0, text);
}

void an505_semihosting_exit(int code)
{
    const uint32_t block[2] = {SEMIHOSTING_APPLICATION_EXIT, (uint32_t)code};
    (void)semihosting_call(SEMIHOSTING_SYS_EXIT_EXTENDED, block);
    for (;;) { /* not reached: QEMU has exited */
    }
}

void hil_board_exit(int code)
{
    an505_semihosting_exit(code);
}

/*
 * The stack (mps2-an505.ld: .stack, __hil_stack_start .. __hil_stack_end, growing down).
 *
 * hil_board_stack_mark paints every word from the bottom of the stack up to its caller's stack
 * pointer; hil_board_stack_used scans up from the bottom for the first word that is no longer
 * the pattern: the deepest point reached since the mark. Both are naked assembly using only
 * r0-r3 and r12: neither has a frame, so the mark is exactly the caller's SP and no word below it
 * is written by the measuring itself (C would push a register here and there, which would count
 * as used, and a C paint loop could become a memset call whose frame sits in the painted area).
 * The startup code marks once .bss is zeroed (the mark is kept in .bss), so before the
 * application's first mark the use since reset is reported.
 */
#define STACK_PAINT 0xA5A5A5A5u /* written by the assembly below as movw/movt #0xA5A5 */

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

/* No heap (the linker script reserves none): malloc returns NULL with errno = ENOMEM. Defined
 * here so that library code that merely references malloc (newlib's stdio) still links. */
void *_sbrk(ptrdiff_t increment);
void *_sbrk(ptrdiff_t increment)
{
    (void)increment;
    errno = ENOMEM;
    return (void *)-1;
}
