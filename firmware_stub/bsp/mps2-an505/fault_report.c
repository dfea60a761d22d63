/*
 * What mps2-an505 does with a fault once the application has reported it over the link
 * (hil_board_fault_stop, armv8m.h): it prints which exception it was, the faulting PC and the
 * fault status registers on QEMU's console (semihosting: its stdout/stderr), then exits QEMU with
 * status 128 + the exception number:
 *   130 NMI, 131 HardFault, 132 MemManage, 133 BusFault, 134 UsageFault (134 also for a stack
 *   overflow, reported as STKOF), 135 SecureFault, 139 SVCall, 140 DebugMonitor, 142 PendSV,
 *   144 + n for an unexpected external interrupt n.
 * The console text is for whoever reads QEMU's output; the harness reads the FAULT frame.
 */
#include <stddef.h>
#include <stdint.h>

#include "an505.h"
#include "armv8m.h"
#include "armv8m_regs.h"
#include "hil_text.h"

#define FAULT_EXIT_BASE 128

typedef struct {
    uint32_t mask;
    const char *name;
} status_bit;

static char *append_bits(char *out, const char *end, uint32_t value, const status_bit *bits, size_t count)
{
    for (size_t i = 0; i < count; ++i) {
        if ((value & bits[i].mask) != 0u) {
            out = hil_text_append(out, end, " ");
            out = hil_text_append(out, end, bits[i].name);
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

void hil_board_fault_stop(const hil_fault *fault)
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

    const uint32_t number = fault->exception;
    char message[640];
    const char *const end = message + sizeof(message) - 1u;
    char *out = hil_text_append(message, end, "\nhil: fatal ");
    out = hil_text_append(out, end, exception_name(number));
    out = hil_text_append(out, end, " (exception ");
    out = hil_text_decimal(out, end, number);
    if (number >= 16u) {
        out = hil_text_append(out, end, ", interrupt ");
        out = hil_text_decimal(out, end, number - 16u);
    }
    out = hil_text_append(out, end, ")\n");
    if (fault->pc != HIL_FAULT_NO_FRAME) {
        out = hil_text_append(out, end, "hil: pc=");
        out = hil_text_hex(out, end, fault->pc);
        out = hil_text_append(out, end, " lr=");
        out = hil_text_hex(out, end, fault->lr);
        out = hil_text_append(out, end, " sp=");
    } else {
        out = hil_text_append(out, end, "hil: no readable exception frame, sp=");
    }
    out = hil_text_hex(out, end, fault->sp);
    out = hil_text_append(out, end, " exc_return=");
    out = hil_text_hex(out, end, fault->exc_return);
    out = hil_text_append(out, end, "\nhil: cfsr=");
    out = hil_text_hex(out, end, fault->cfsr);
    out = append_bits(out, end, fault->cfsr, cfsr_bits, sizeof(cfsr_bits) / sizeof(cfsr_bits[0]));
    out = hil_text_append(out, end, "\nhil: hfsr=");
    out = hil_text_hex(out, end, fault->hfsr);
    out = append_bits(out, end, fault->hfsr, hfsr_bits, sizeof(hfsr_bits) / sizeof(hfsr_bits[0]));
    out = hil_text_append(out, end, "\nhil: sfsr=");
    out = hil_text_hex(out, end, fault->sfsr);
    out = append_bits(out, end, fault->sfsr, sfsr_bits, sizeof(sfsr_bits) / sizeof(sfsr_bits[0]));
    if ((fault->cfsr & ARMV8M_CFSR_MMARVALID) != 0u) {
        out = hil_text_append(out, end, "\nhil: mmfar=");
        out = hil_text_hex(out, end, fault->mmfar);
    }
    if ((fault->cfsr & ARMV8M_CFSR_BFARVALID) != 0u) {
        out = hil_text_append(out, end, "\nhil: bfar=");
        out = hil_text_hex(out, end, fault->bfar);
    }
    if ((fault->sfsr & ARMV8M_SFSR_SFARVALID) != 0u) {
        out = hil_text_append(out, end, "\nhil: sfar=");
        out = hil_text_hex(out, end, fault->sfar);
    }
    out = hil_text_append(out, end, "\n");
    *out = '\0';

    an505_semihosting_write(message);
    an505_semihosting_exit(FAULT_EXIT_BASE + (int)number);
}
