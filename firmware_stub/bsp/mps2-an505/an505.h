/*
 * Private to the mps2-an505 board support (startup.c and board.c): registers, semihosting and
 * the SysTick handler. Nothing outside bsp/mps2-an505/ includes this.
 */
#ifndef HIL_AN505_H
#define HIL_AN505_H

#include <stdint.h>

#define AN505_REG(address) (*(volatile uint32_t *)(address))

/* System control space (the CPU runs in the Secure state; these are the Secure views). */
#define AN505_ICSR AN505_REG(0xE000ED04u)   /* interrupt control and state */
#define AN505_ICSR_PENDSTSET (1u << 26)
#define AN505_ICSR_PENDSTCLR (1u << 25)
#define AN505_VTOR AN505_REG(0xE000ED08u)
#define AN505_CCR AN505_REG(0xE000ED14u)
#define AN505_SHPR3 AN505_REG(0xE000ED20u)  /* priorities of PendSV and SysTick */
#define AN505_SHCSR AN505_REG(0xE000ED24u)
#define AN505_SHCSR_MEMFAULTENA (1u << 16)
#define AN505_SHCSR_BUSFAULTENA (1u << 17)
#define AN505_SHCSR_USGFAULTENA (1u << 18)
#define AN505_SHCSR_SECUREFAULTENA (1u << 19)
#define AN505_CFSR AN505_REG(0xE000ED28u)   /* MMFSR | BFSR << 8 | UFSR << 16 */
#define AN505_HFSR AN505_REG(0xE000ED2Cu)
#define AN505_MMFAR AN505_REG(0xE000ED34u)
#define AN505_BFAR AN505_REG(0xE000ED38u)
#define AN505_CPACR AN505_REG(0xE000ED88u)
#define AN505_SFSR AN505_REG(0xE000EDE4u)
#define AN505_SFAR AN505_REG(0xE000EDE8u)

/* SysTick: a 24-bit down-counter. */
#define AN505_SYST_CSR AN505_REG(0xE000E010u)
#define AN505_SYST_RVR AN505_REG(0xE000E014u)
#define AN505_SYST_CVR AN505_REG(0xE000E018u)
#define AN505_SYST_CSR_ENABLE (1u << 0)
#define AN505_SYST_CSR_TICKINT (1u << 1)
#define AN505_SYST_CSR_CLKSOURCE_CPU (1u << 2)

/* Counts one SysTick wrap; installed in the vector table by startup.c. */
void an505_systick_handler(void);

/* Semihosting SYS_WRITE0: a NUL-terminated string to QEMU's console (its stdout/stderr). */
void an505_semihosting_write(const char *text);

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code` as its exit status. */
void an505_semihosting_exit(int code) __attribute__((noreturn));

#endif /* HIL_AN505_H */
