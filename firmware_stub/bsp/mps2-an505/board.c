/*
 * QEMU mps2-an505 board: the vector table, CMSDK APB UART0 for the link, SysTick extended to a
 * 32-bit count of executed instructions, semihosting for exit. Startup, stack painting and the
 * fault capture are bsp/armv8m/'s; the fault's text report is fault_report.c.
 *
 * The counter needs QEMU's `-icount shift=0`: each guest instruction then advances virtual time
 * by exactly 1 ns, and SysTick (CLKSOURCE = processor clock, 20 MHz on this machine) ticks once
 * every AN505_INSTRUCTIONS_PER_TICK instructions, identically on every run. The count is in
 * instructions, not cycles, and has a granularity of one tick.
 */
#include "hil_board.h"

#include "an505.h"
#include "armv8m.h"
#include "armv8m_regs.h"

/* UART0, Secure alias (the CPU runs Secure); 0x40200000 is the Non-secure alias. */
#define UART0_BASE 0x50200000u
#define UART0_DATA ARMV8M_REG(UART0_BASE + 0x00u)
#define UART0_STATE ARMV8M_REG(UART0_BASE + 0x04u)
#define UART0_CTRL ARMV8M_REG(UART0_BASE + 0x08u)
#define UART0_BAUDDIV ARMV8M_REG(UART0_BASE + 0x10u)
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

#define EXTERNAL_INTERRUPTS 96u /* QEMU's an505 wires 92; the table covers 96 */

#define SEMIHOSTING_SYS_WRITE0 0x04
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20
#define SEMIHOSTING_APPLICATION_EXIT 0x20026u /* ADP_Stopped_ApplicationExit */

static volatile uint32_t systick_wraps;

static void systick_handler(void)
{
    systick_wraps = systick_wraps + 1u;
}

/* Entry 0 is the initial stack pointer; then the 15 system exceptions; then the interrupts. */
extern uint32_t __hil_stack_end[];
__attribute__((section(".vectors"), used)) const armv8m_vector hil_board_vectors[16u + EXTERNAL_INTERRUPTS] = {
    [0] = (armv8m_vector)(uintptr_t)__hil_stack_end,
    [1] = hil_reset_handler,
    [2] = hil_fault_entry,  /* NMI */
    [3] = hil_fault_entry,  /* HardFault */
    [4] = hil_fault_entry,  /* MemManage */
    [5] = hil_fault_entry,  /* BusFault */
    [6] = hil_fault_entry,  /* UsageFault */
    [7] = hil_fault_entry,  /* SecureFault */
    [11] = hil_fault_entry, /* SVCall */
    [12] = hil_fault_entry, /* DebugMonitor */
    [14] = hil_fault_entry, /* PendSV */
    [15] = systick_handler,
    [16 ... 16u + EXTERNAL_INTERRUPTS - 1u] = hil_fault_entry,
};

hil_status hil_board_init(const char **failure)
{
    UART0_CTRL = 0u;
    UART0_BAUDDIV = UART_PCLK_HZ / UART_BAUD;
    UART0_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE;
    (void)UART0_DATA; /* without this read QEMU holds the first byte from the host for ~1 s */

    ARMV8M_SYST_CSR = 0u;
    systick_wraps = 0u;
    ARMV8M_SYST_RVR = AN505_SYSTICK_RELOAD;
    hil_board_counter_align();
#if defined(HIL_TEST_BOARD_FAILURE)
    /* Test builds only (tests/test_fault_report.py): a board whose link came up but not the rest. */
    *failure = "HIL_TEST_BOARD_FAILURE: this test build pretends that a ready flag never came";
    return HIL_ERROR_TIMEOUT;
#else
    *failure = NULL;
    return HIL_OK;
#endif
}

/* Restarting SysTick restarts QEMU's tick grid at this instant, so code measured from here on
 * starts at the same phase of a 50-instruction tick whatever the host's timing was before. */
void hil_board_counter_align(void)
{
    ARMV8M_SYST_CSR = 0u;
    ARMV8M_ICSR = ARMV8M_ICSR_PENDSTCLR; /* a wrap not yet counted belongs to the old grid */
    ARMV8M_SYST_CVR = 0u; /* any write clears the count; the first tick loads the reload value */
    ARMV8M_SYST_CSR = ARMV8M_SYST_CSR_ENABLE | ARMV8M_SYST_CSR_TICKINT | ARMV8M_SYST_CSR_CLKSOURCE_CPU;
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

/* The ordinary write already polls, and QEMU has sent each byte once the UART takes the next. */
hil_status hil_board_uart_write_polled(const uint8_t *data, size_t length)
{
    return hil_board_uart_write(data, length);
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
    uint32_t value = ARMV8M_SYST_CVR;
    if ((ARMV8M_ICSR & ARMV8M_ICSR_PENDSTSET) != 0u) {
        wraps += 1u;
        value = ARMV8M_SYST_CVR;
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
