/*
 * Startup for QEMU mps2-an505 (Cortex-M33, Secure state): the vector table at the start of
 * SSRAM1 (0x10000000, where QEMU's reset takes SP and PC from), the reset handler, the fault
 * handlers.
 *
 * Reset: enable the FPU (before any code that may use it), arm the stack limit (MSPLIM, so an
 * overflow faults instead of overwriting .bss), copy .data, zero .bss, paint the unused stack
 * (hil_board_stack_mark, board.c), enable the configurable faults, run constructors, then exit
 * with main()'s return value.
 *
 * Faults and unexpected interrupts never hang: the handler prints which exception it was, the
 * faulting PC and the fault status registers over semihosting (QEMU's stdout/stderr), then
 * exits QEMU with status 128 + the exception number:
 *   130 NMI, 131 HardFault, 132 MemManage, 133 BusFault, 134 UsageFault (134 also for a stack
 *   overflow, reported as STKOF), 135 SecureFault, 139 SVCall, 140 DebugMonitor, 142 PendSV,
 *   144 + n for an unexpected external interrupt n.
 * The link is not used for the report: it carries framed protocol traffic.
 */
#include <stddef.h>
#include <stdint.h>

#include "an505.h"
#include "hil_board.h"

#define EXTERNAL_INTERRUPTS 96u /* QEMU's an505 wires 92; the table covers 96 */
#define FAULT_EXIT_BASE 128

/* From mps2-an505.ld. */
extern uint32_t __hil_stack_start[];
extern uint32_t __hil_stack_end[];
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

void hil_reset_handler(void) __attribute__((noreturn));
void hil_fault_entry(void) __attribute__((naked, noreturn));
void hil_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));

typedef void (*vector)(void);

/* Entry 0 is the initial stack pointer; then the 15 system exceptions; then the interrupts. */
__attribute__((section(".vectors"), used)) static const vector vectors[16u + EXTERNAL_INTERRUPTS] = {
    [0] = (vector)(uintptr_t)__hil_stack_end,
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
    [15] = an505_systick_handler,
    [16 ... 16u + EXTERNAL_INTERRUPTS - 1u] = hil_fault_entry,
};

void hil_reset_handler(void)
{
    /* CP10 and CP11 full access: floating point from here on. */
    AN505_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    AN505_VTOR = (uint32_t)(uintptr_t)vectors;
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

    /* MemManage, BusFault, UsageFault and SecureFault report as themselves, not as HardFault. */
    AN505_SHCSR |= AN505_SHCSR_MEMFAULTENA | AN505_SHCSR_BUSFAULTENA | AN505_SHCSR_USGFAULTENA |
                   AN505_SHCSR_SECUREFAULTENA;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

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

/* No stack is trusted here: drop the stack limit (the report needs a few hundred bytes, even
 * after an overflow), find the frame the exception stacked, and hand over to C. */
void hil_fault_entry(void)
{
    __asm__ volatile(
        "movs r0, #0\n\t"
        "msr msplim, r0\n\t"
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b hil_fault_report\n");
}

static char *append(char *out, const char *text)
{
    while (*text != '\0') {
        *out++ = *text++;
    }
    return out;
}

static char *append_hex(char *out, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    out = append(out, "0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
        *out++ = digits[(value >> shift) & 0xFu];
    }
    return out;
}

static char *append_decimal(char *out, uint32_t value)
{
    char reversed[10];
    int count = 0;
    do {
        reversed[count++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (count > 0) {
        *out++ = reversed[--count];
    }
    return out;
}

typedef struct {
    uint32_t mask;
    const char *name;
} status_bit;

static char *append_bits(char *out, uint32_t value, const status_bit *bits, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if ((value & bits[i].mask) != 0u) {
            out = append(out, " ");
            out = append(out, bits[i].name);
        }
    }
    return out;
}

static const char *exception_name(uint32_t number)
{
    switch (number) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    default: return number >= 16u ? "unexpected interrupt" : "reserved exception";
    }
}

void hil_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    static const status_bit cfsr_bits[] = {
        {1u << 0, "IACCVIOL(instruction access violation)"},
        {1u << 1, "DACCVIOL(data access violation)"},
        {1u << 3, "MUNSTKERR"},
        {1u << 4, "MSTKERR"},
        {1u << 5, "MLSPERR"},
        {1u << 8, "IBUSERR(instruction bus error)"},
        {1u << 9, "PRECISERR(data bus error)"},
        {1u << 10, "IMPRECISERR(imprecise data bus error)"},
        {1u << 11, "UNSTKERR"},
        {1u << 12, "STKERR"},
        {1u << 13, "LSPERR"},
        {1u << 16, "UNDEFINSTR(undefined instruction)"},
        {1u << 17, "INVSTATE(invalid state)"},
        {1u << 18, "INVPC(invalid EXC_RETURN)"},
        {1u << 19, "NOCP(coprocessor disabled)"},
        {1u << 20, "STKOF(stack overflow)"},
        {1u << 24, "UNALIGNED"},
        {1u << 25, "DIVBYZERO"},
    };
    static const status_bit hfsr_bits[] = {
        {1u << 1, "VECTTBL"},
        {1u << 30, "FORCED(escalated)"},
        {1u << 31, "DEBUGEVT"},
    };
    static const status_bit sfsr_bits[] = {
        {1u << 0, "INVEP"}, {1u << 1, "INVIS"}, {1u << 2, "INVER"}, {1u << 3, "AUVIOL"},
        {1u << 4, "INVTRAN"}, {1u << 5, "LSPERR"}, {1u << 7, "LSERR"},
    };

    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    const uint32_t number = ipsr & 0x1FFu;
    const uint32_t cfsr = AN505_CFSR;
    const uint32_t hfsr = AN505_HFSR;
    const uint32_t sfsr = AN505_SFSR;

    char message[640];
    char *out = append(message, "\nhil: fatal ");
    out = append(out, exception_name(number));
    out = append(out, " (exception ");
    out = append_decimal(out, number);
    if (number >= 16u) {
        out = append(out, ", interrupt ");
        out = append_decimal(out, number - 16u);
    }
    out = append(out, ")\n");

    /* The stacked frame is r0-r3, r12, lr, pc, xpsr; read it only if it lies in RAM. */
    const uintptr_t frame_address = (uintptr_t)frame;
    if (frame_address >= (uintptr_t)__hil_ram_start && frame_address + 32u <= (uintptr_t)__hil_ram_end) {
        out = append(out, "hil: pc=");
        out = append_hex(out, frame[6]);
        out = append(out, " lr=");
        out = append_hex(out, frame[5]);
        out = append(out, " sp=");
        out = append_hex(out, (uint32_t)frame_address);
    } else {
        out = append(out, "hil: no readable exception frame, sp=");
        out = append_hex(out, (uint32_t)frame_address);
    }
    out = append(out, " exc_return=");
    out = append_hex(out, exc_return);
    out = append(out, "\nhil: cfsr=");
    out = append_hex(out, cfsr);
    out = append_bits(out, cfsr, cfsr_bits, sizeof(cfsr_bits) / sizeof(cfsr_bits[0]));
    out = append(out, "\nhil: hfsr=");
    out = append_hex(out, hfsr);
    out = append_bits(out, hfsr, hfsr_bits, sizeof(hfsr_bits) / sizeof(hfsr_bits[0]));
    out = append(out, "\nhil: sfsr=");
    out = append_hex(out, sfsr);
    out = append_bits(out, sfsr, sfsr_bits, sizeof(sfsr_bits) / sizeof(sfsr_bits[0]));
    if ((cfsr & (1u << 7)) != 0u) {
        out = append(out, "\nhil: mmfar=");
        out = append_hex(out, AN505_MMFAR);
    }
    if ((cfsr & (1u << 15)) != 0u) {
        out = append(out, "\nhil: bfar=");
        out = append_hex(out, AN505_BFAR);
    }
    if ((sfsr & (1u << 6)) != 0u) {
        out = append(out, "\nhil: sfar=");
        out = append_hex(out, AN505_SFAR);
    }
    out = append(out, "\n");
    *out = '\0';

    an505_semihosting_write(message);
    an505_semihosting_exit(FAULT_EXIT_BASE + (int)number);
}
