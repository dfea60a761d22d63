/*
 * Board self-test: exercises a board support package through hil_board.h only. Driven by tests/test_qemu_board.py over the link.
 *
 * At reset, after hil_board_init(), it measures a 2-instruction loop for CALIBRATION_LOOPS
 * iterations: nothing the host does can change where those measurements start, so their counts
 * must repeat exactly from run to run. Then it writes the banner "HIL-SELFTEST\n" and serves
 * one-byte commands; every number is a little-endian uint32.
 *   'C'              reply the count of calibration loops, then (iterations, counter delta) for each
 *   'E' n(u32)       echo the next n bytes, each written back as soon as it is read
 *   'L' n(u32)       run `n` iterations (n >= 1) of a 2-instruction loop between two counter
 *                    reads; reply the counter delta. It starts whenever the command arrives, so
 *                    its phase against the counter's ticks depends on the host's timing.
 *   'M' n(u32)       read the counter n times back to back; reply how many consecutive deltas
 *                    went backwards (above 2^31 as unsigned: a wrap counted late), then the
 *                    largest delta (a wrap counted twice shows here) and the smallest
 *   'I'              reply counter unit, counter hz, reset reason, stack used since the last mark
 *                    (since reset before the first 'K')
 *   'D'              reply the initialised-data and zeroed-bss checks, then dirty both
 *   'R'              restart through the reset vector (no emulator reset, so nothing reloads
 *                    the image): startup alone must restore .data and zero .bss
 *   'S' n(u32)       use about n bytes of stack, then reply the stack used since the last mark
 *   'K' n(u32)       mark the stack, use about n bytes of it (none for n = 0), then reply the
 *                    status of mark, the status of used, the bytes used and the stack's size
 *   'F' kind(u8)     fault on purpose: 'u' undefined instruction, 'b' bus error, 's' stack overflow;
 *                    the fault handler then writes "FAULT" and the exception number (u8) over the
 *                    link (hil_app_fault below) before the board stops
 *   'X' code(u8)     hil_board_exit(code)
 * An unknown command is answered with '?'.
 */
#include <stddef.h>
#include <stdint.h>

#include "hil_board.h"
#include "hil_fault.h"

#define BANNER "HIL-SELFTEST\n"

/* .data: startup must copy these from their load image in flash. */
static volatile uint32_t data_words[4] = {0x12345678u, 0xCAFEF00Du, 0xA5A55A5Au, 0x00000001u};
static volatile float data_float = 1.5f;
/* .bss: startup must zero these. QEMU zero-fills .bss when it loads the ELF, so 'D' dirties them
 * and 'R' restarts without reloading: only then does the check prove the startup code. */
static volatile uint32_t bss_words[256];

/* -DSELFTEST_CALIBRATE=0 skips the calibration ('C' then replies zeros), for builds whose
 * counter is deliberately slow (a SysTick wrap every few instructions). */
#ifndef SELFTEST_CALIBRATE
#define SELFTEST_CALIBRATE 1
#endif

static const uint32_t CALIBRATION_LOOPS[] = {1u, 25u, 1000u, 1000000u, 10000000u};
#define CALIBRATIONS (sizeof(CALIBRATION_LOOPS) / sizeof(CALIBRATION_LOOPS[0]))
static uint32_t calibration_deltas[CALIBRATIONS];

static void fail(void)
{
    hil_board_exit(100);
}

static void write_bytes(const void *data, size_t length)
{
    if (hil_board_uart_write((const uint8_t *)data, length) != HIL_OK) {
        fail();
    }
}

static void write_u32(uint32_t value)
{
    const uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
    write_bytes(bytes, sizeof(bytes));
}

static uint8_t read_u8(void)
{
    uint8_t byte;
    if (hil_board_uart_read(&byte) != HIL_OK) {
        fail();
    }
    return byte;
}

static uint32_t read_u32(void)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        value |= (uint32_t)read_u8() << (8 * i);
    }
    return value;
}

/* Exactly 2 * iterations instructions between the two reads, besides the reads themselves. */
static uint32_t measure_loop(uint32_t iterations)
{
    const uint32_t start = hil_board_counter();
    __asm__ volatile(
        "1:\n\t"
        "subs %0, %0, #1\n\t"
        "bne 1b\n"
        : "+r"(iterations)
        :
        : "cc");
    return hil_board_counter() - start;
}

static void check_monotonic(uint32_t reads)
{
    uint32_t bad = 0, largest = 0, smallest = UINT32_MAX;
    uint32_t previous = hil_board_counter();
    for (uint32_t i = 0; i < reads; ++i) {
        const uint32_t now = hil_board_counter();
        const uint32_t delta = now - previous;
        if (delta > 0x80000000u) {
            ++bad;
        }
        largest = delta > largest ? delta : largest;
        smallest = delta < smallest ? delta : smallest;
        previous = now;
    }
    write_u32(bad);
    write_u32(largest);
    write_u32(smallest);
}

static void check_startup(void)
{
    static const uint32_t expected[4] = {0x12345678u, 0xCAFEF00Du, 0xA5A55A5Au, 0x00000001u};
    uint32_t data_ok = 1;
    for (int i = 0; i < 4; ++i) {
        data_ok &= data_words[i] == expected[i];
    }
    uint32_t bss_zero = 1;
    for (size_t i = 0; i < sizeof(bss_words) / sizeof(bss_words[0]); ++i) {
        bss_zero &= bss_words[i] == 0u;
        bss_words[i] = 0xFFFFFFFFu;
    }
    /* A float multiply: faults (NOCP) unless startup enabled the FPU. */
    const float product = data_float * 3.0f;
    uint32_t product_bits;
    __builtin_memcpy(&product_bits, &product, sizeof(product_bits));
    write_u32(data_ok);
    write_u32(bss_zero);
    write_u32(product_bits);
    write_u32(data_words[1]);
    for (int i = 0; i < 4; ++i) {
        data_words[i] = ~expected[i];
    }
}

/* Back to the reset handler as the CPU would enter it: SP and PC from the vector table that
 * VTOR (an architectural register on every Cortex-M33) points at. */
static void restart(void)
{
    const uint32_t *table = *(const uint32_t *const volatile *)0xE000ED08u;
    __asm__ volatile(
        "cpsid i\n\t"
        "msr msp, %0\n\t"
        "cpsie i\n\t"
        "bx %1\n"
        :
        : "r"(table[0]), "r"(table[1])
        : "memory");
}

/* Recursion the compiler cannot flatten: each level keeps a 256-byte buffer live. */
static uint32_t __attribute__((noinline)) use_stack(uint32_t bytes)
{
    volatile uint8_t buffer[256];
    buffer[0] = (uint8_t)bytes;
    buffer[255] = (uint8_t)(bytes >> 8);
    uint32_t below = bytes > sizeof(buffer) ? use_stack(bytes - (uint32_t)sizeof(buffer)) : 0u;
    return below + buffer[0] + buffer[255];
}

static uint32_t stack_used(void)
{
    uint32_t bytes = 0;
    if (hil_board_stack_used(&bytes) != HIL_OK) {
        fail();
    }
    return bytes;
}

static void measure_stack(uint32_t bytes)
{
    const hil_status marked = hil_board_stack_mark();
    if (bytes > 0u) {
        (void)use_stack(bytes);
    }
    uint32_t used = 0, size = 0;
    const hil_status measured = hil_board_stack_used(&used);
    (void)hil_board_stack_size(&size);
    write_u32((uint32_t)marked);
    write_u32((uint32_t)measured);
    write_u32(used);
    write_u32(size);
}

static void fault(uint8_t kind)
{
    switch (kind) {
    case 'u':
        __asm__ volatile("udf #0");
        break;
    case 'b':
        (void)*(volatile uint32_t *)0xF0000000u; /* nothing is mapped there */
        break;
    case 's':
        (void)use_stack(UINT32_MAX);
        break;
    default:
        break;
    }
    hil_board_exit(101); /* the fault did not happen */
}

/* The application's fault report (hil_fault.h), reduced to a marker and the exception number:
 * it shows that the board's polled write works inside the fault handler. */
void hil_app_fault(const hil_fault *fault)
{
    const uint8_t report[6] = {'F', 'A', 'U', 'L', 'T', (uint8_t)fault->exception};
    (void)hil_board_uart_write_polled(report, sizeof(report));
}

int main(void)
{
    const char *failure = NULL;
    if (hil_board_init(&failure) != HIL_OK) {
        return 102;
    }
    for (size_t i = 0; SELFTEST_CALIBRATE && i < CALIBRATIONS; ++i) {
        calibration_deltas[i] = measure_loop(CALIBRATION_LOOPS[i]);
    }
    write_bytes(BANNER, sizeof(BANNER) - 1);
    for (;;) {
        const uint8_t command = read_u8();
        switch (command) {
        case 'C':
            write_u32((uint32_t)CALIBRATIONS);
            for (size_t i = 0; i < CALIBRATIONS; ++i) {
                write_u32(CALIBRATION_LOOPS[i]);
                write_u32(calibration_deltas[i]);
            }
            break;
        case 'E': {
            const uint32_t length = read_u32();
            for (uint32_t i = 0; i < length; ++i) {
                const uint8_t byte = read_u8();
                write_bytes(&byte, 1);
            }
            break;
        }
        case 'L':
            write_u32(measure_loop(read_u32()));
            break;
        case 'M':
            check_monotonic(read_u32());
            break;
        case 'I':
            write_u32((uint32_t)hil_board_counter_unit());
            {
                uint32_t hz = 0u;
                write_u32((uint32_t)hil_board_counter_hz(&hz)); /* the status, then the rate */
                write_u32(hz);
            }
            write_u32((uint32_t)hil_board_reset_reason());
            write_u32(stack_used());
            break;
        case 'D':
            check_startup();
            break;
        case 'R':
            restart();
            break;
        case 'S':
            (void)use_stack(read_u32());
            write_u32(stack_used());
            break;
        case 'K':
            measure_stack(read_u32());
            break;
        case 'F':
            fault(read_u8());
            break;
        case 'X':
            hil_board_exit((int)read_u8());
            break;
        default:
            write_bytes("?", 1);
            break;
        }
    }
}
