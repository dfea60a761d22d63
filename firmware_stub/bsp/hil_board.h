/*
 * What a board provides to the application: one implementation per board under bsp/<board>/,
 * picked by the build (no weak defaults). Everything else in the firmware is the same C on
 * every target.
 */
#ifndef HIL_BOARD_H
#define HIL_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hil_types.h"

typedef enum {
    HIL_COUNTER_CYCLES = 1,       /* CPU clock cycles (DWT->CYCCNT on a board) */
    HIL_COUNTER_INSTRUCTIONS = 2, /* executed instructions (QEMU with -icount shift=0) */
    HIL_COUNTER_NANOSECONDS = 3   /* wall-clock ns (host build) */
} hil_counter_unit;

typedef enum {
    HIL_RESET_POWER_ON = 1,
    HIL_RESET_SOFTWARE = 2,
    HIL_RESET_WATCHDOG = 3,
    HIL_RESET_PIN = 4,
    HIL_RESET_OTHER = 5
} hil_reset_reason;

/*
 * Clocks, UART, counter. Called once before anything else.
 *
 * HIL_OK: the board is as it should be; *failure is set to NULL.
 * HIL_ERROR_CLOSED: no link could be brought up, so nothing can be reported (the application
 *   stops with exit code 2); *failure names what failed.
 * Any other error: the board is not as it should be (e.g. a clock never became ready), but the
 *   link works, on a clock the board fell back to. *failure names what failed, e.g. "PLL1RDY
 *   never set; the CPU runs at 16000000 Hz"; the application answers every request with it
 *   instead of serving (docs/protocol.md, ERROR 7), so the harness sees why.
 * *failure points to a static string.
 */
hil_status hil_board_init(const char **failure);

/* Blocks until one byte arrives. HIL_ERROR_CLOSED when the link is gone (host: the peer closed);
 * HIL_ERROR_OVERRUN when received bytes were lost since the last read (the byte is not read: the
 * frame in progress is damaged); HIL_ERROR_ARGUMENT for a NULL `byte`. */
hil_status hil_board_uart_read(uint8_t *byte);

/* Blocks until every byte is handed to the UART. HIL_ERROR_CLOSED when the link is gone. */
hil_status hil_board_uart_write(const uint8_t *data, size_t length);

/* The same, by polling only, and it returns once the bytes have left: usable from a fault handler
 * with interrupts masked (hil_fault.h). HIL_ERROR_CLOSED when the link is not up (yet). */
hil_status hil_board_uart_write_polled(const uint8_t *data, size_t length);

/* A free-running counter in `hil_board_counter_unit()` units; wraps at 2^32 (callers subtract). */
uint32_t hil_board_counter(void);
hil_counter_unit hil_board_counter_unit(void);

/*
 * Starts the counter's tick grid now, so that a measurement begun right after this call reads
 * the same counts run after run even when the counter is coarser than its unit (QEMU's SysTick
 * advances 50 instructions at a time). The counter may jump: only measure after calling it.
 */
void hil_board_counter_align(void);

/* Counter ticks per second into *hz: the clock for cycles, 1e9 for ns. HIL_ERROR_UNSUPPORTED when
 * the counter has no fixed rate (instructions are not time); HIL_ERROR_ARGUMENT for a NULL `hz`. */
hil_status hil_board_counter_hz(uint32_t *hz);

hil_reset_reason hil_board_reset_reason(void);

/*
 * Stack use, measured by painting: hil_board_stack_mark() fills the free stack below the
 * caller's frame with a known pattern and remembers the caller's stack pointer (the mark);
 * hil_board_stack_used() then scans the paint for the deepest word changed since and reports
 * how many bytes below the mark were used (interrupts taken meanwhile included; 0 if none).
 * Before the first mark the boards that paint at reset report the use since reset, below the
 * stack pointer the startup code had when it painted. The count is a lower bound by one word
 * at most: a word written with the pattern's own value looks unused.
 * hil_board_stack_size() gives the bytes of the whole stack region.
 *
 * Each returns HIL_OK, or HIL_ERROR_UNSUPPORTED on a board that cannot measure its stack (the
 * host build: a native process' stack is the OS's and cannot be painted honestly);
 * HIL_ERROR_ARGUMENT for a NULL `bytes`.
 */
hil_status hil_board_stack_mark(void);
hil_status hil_board_stack_used(uint32_t *bytes);
hil_status hil_board_stack_size(uint32_t *bytes);

/* Stops the firmware: semihosting exit on QEMU, process exit on the host; a board stops where a
 * debugger can see it, with the code in a variable. */
void hil_board_exit(int code);

#endif /* HIL_BOARD_H */
