/*
 * The architectural registers of the ARMv8-M System Control Space that the Cortex-M33 boards use:
 * the same addresses on every ARMv8-M Mainline device, so they live here once.
 *
 * Source: Arm DDI 0553 (Armv8-M Architecture Reference Manual), chapter D1 "Register
 * Specification", the entry of each register named below; cross-checked against the register
 * layout of Arm's CMSIS core_cm33.h. A Secure-state CPU (QEMU mps2-an505) and a Non-secure one
 * (STM32U585 with TrustZone disabled) both reach their own banked view at these addresses.
 */
#ifndef HIL_ARMV8M_REGS_H
#define HIL_ARMV8M_REGS_H

#include <stdint.h>

#define ARMV8M_REG(address) (*(volatile uint32_t *)(address))

/* System control block. */
#define ARMV8M_ICSR ARMV8M_REG(0xE000ED04u) /* ICSR, Interrupt Control and State Register */
#define ARMV8M_ICSR_PENDSTCLR (1u << 25)
#define ARMV8M_ICSR_PENDSTSET (1u << 26)
#define ARMV8M_VTOR ARMV8M_REG(0xE000ED08u) /* VTOR, Vector Table Offset Register */
#define ARMV8M_CCR ARMV8M_REG(0xE000ED14u)  /* CCR, Configuration and Control Register */
#define ARMV8M_CCR_DIV_0_TRP (1u << 4)      /* integer division by zero: UsageFault DIVBYZERO */
#define ARMV8M_SHCSR ARMV8M_REG(0xE000ED24u) /* SHCSR, System Handler Control and State Register */
#define ARMV8M_SHCSR_MEMFAULTENA (1u << 16)
#define ARMV8M_SHCSR_BUSFAULTENA (1u << 17)
#define ARMV8M_SHCSR_USGFAULTENA (1u << 18)
#define ARMV8M_SHCSR_SECUREFAULTENA (1u << 19)
#define ARMV8M_CFSR ARMV8M_REG(0xE000ED28u)  /* CFSR, Configurable Fault Status: MMFSR | BFSR << 8 | UFSR << 16 */
#define ARMV8M_HFSR ARMV8M_REG(0xE000ED2Cu)  /* HFSR, HardFault Status Register */
#define ARMV8M_MMFAR ARMV8M_REG(0xE000ED34u) /* MMFAR, MemManage Fault Address (valid: CFSR.MMARVALID) */
#define ARMV8M_BFAR ARMV8M_REG(0xE000ED38u)  /* BFAR, BusFault Address (valid: CFSR.BFARVALID) */
#define ARMV8M_CPACR ARMV8M_REG(0xE000ED88u) /* CPACR, Coprocessor Access Control */
#define ARMV8M_CPACR_CP10_CP11_FULL (0xFu << 20) /* the FPU: full access */
#define ARMV8M_SFSR ARMV8M_REG(0xE000EDE4u)  /* SFSR, Secure Fault Status (RAZ from the Non-secure state) */
#define ARMV8M_SFAR ARMV8M_REG(0xE000EDE8u)  /* SFAR, Secure Fault Address (valid: SFSR.SFARVALID) */
#define ARMV8M_DEMCR ARMV8M_REG(0xE000EDFCu) /* DEMCR, Debug Exception and Monitor Control */
#define ARMV8M_DEMCR_TRCENA (1u << 24)       /* powers the DWT (and ITM) */

/* CFSR and SFSR bits the fault report reads (all names: docs/protocol.md, "FAULT"). */
#define ARMV8M_CFSR_MMARVALID (1u << 7)
#define ARMV8M_CFSR_BFARVALID (1u << 15)
#define ARMV8M_SFSR_SFARVALID (1u << 6)

/* IPSR: the number of the exception being handled. */
#define ARMV8M_IPSR_EXCEPTION_MASK 0x1FFu

/* SysTick (SYST_CSR, SYST_RVR, SYST_CVR): a 24-bit down-counter. */
#define ARMV8M_SYST_CSR ARMV8M_REG(0xE000E010u)
#define ARMV8M_SYST_RVR ARMV8M_REG(0xE000E014u)
#define ARMV8M_SYST_CVR ARMV8M_REG(0xE000E018u)
#define ARMV8M_SYST_CSR_ENABLE (1u << 0)
#define ARMV8M_SYST_CSR_TICKINT (1u << 1)
#define ARMV8M_SYST_CSR_CLKSOURCE_CPU (1u << 2)

/* NVIC_ISERn: interrupt n is enabled by bit n % 32 of register n / 32. */
#define ARMV8M_NVIC_ISER(n) ARMV8M_REG(0xE000E100u + 4u * ((n) / 32u))
#define ARMV8M_NVIC_BIT(n) (1u << ((n) % 32u))

/* DWT_CTRL, DWT_CYCCNT: the cycle counter (DEMCR.TRCENA must be set first). */
#define ARMV8M_DWT_CTRL ARMV8M_REG(0xE0001000u)
#define ARMV8M_DWT_CTRL_CYCCNTENA (1u << 0)
#define ARMV8M_DWT_CTRL_NOCYCCNT (1u << 25) /* reads 1 when the implementation has no cycle counter */
#define ARMV8M_DWT_CYCCNT ARMV8M_REG(0xE0001004u)

static inline void armv8m_barrier(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

#endif /* HIL_ARMV8M_REGS_H */
