/*
 * A fault, as the board's fault handler captured it, and the application's hook that reports it
 * (app/link.c: the FAULT message of docs/protocol.md). The board calls the hook, so the board
 * support needs no application header; the host build never faults this way and never calls it.
 */
#ifndef HIL_FAULT_H
#define HIL_FAULT_H

#include <stdint.h>

/* pc, lr and xpsr when the stacked exception frame was not in RAM: an odd address is never a
 * stacked PC, so the value cannot be mistaken for one. */
#define HIL_FAULT_NO_FRAME 0xFFFFFFFFu

typedef struct {
    uint32_t exception;  /* IPSR: 2 NMI, 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault, 7 SecureFault, ... */
    uint32_t pc;         /* stacked PC, LR and xPSR, or HIL_FAULT_NO_FRAME */
    uint32_t lr;
    uint32_t xpsr;
    uint32_t sp;         /* where the exception frame was stacked */
    uint32_t exc_return; /* the LR value on exception entry */
    uint32_t cfsr;
    uint32_t hfsr;
    uint32_t sfsr;
    uint32_t mmfar;      /* meaningful when CFSR.MMARVALID */
    uint32_t bfar;       /* meaningful when CFSR.BFARVALID */
    uint32_t sfar;       /* meaningful when SFSR.SFARVALID */
} hil_fault;

/*
 * Reports a fault to the host. Called from the fault handler with interrupts masked and a stack
 * that may have overflowed: it must only poll (hil_board_uart_write_polled) and keep its frame
 * small. It returns; the board then stops.
 */
void hil_app_fault(const hil_fault *fault);

#endif /* HIL_FAULT_H */
