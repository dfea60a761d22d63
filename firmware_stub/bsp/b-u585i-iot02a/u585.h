/*
 * B-U585I-IOT02A (STM32U585AII6): every address and bit field this board support uses, with
 * where each comes from. Private to bsp/b-u585i-iot02a/; the architectural Cortex-M33 registers
 * are in bsp/armv8m/armv8m_regs.h.
 *
 * Sources:
 *   RM0456 Rev 6, STM32U5 series reference manual (section and table numbers below are that
 *     revision's);
 *   UM2839, B-U585I-IOT02A user manual (the board's wiring);
 *   DS13086, STM32U585xx datasheet (alternate functions, oscillator and PLL characteristics);
 *   cross-checked against STMicroelectronics/cmsis-device-u5 Include/stm32u585xx.h (base
 *     addresses, register offsets, bit positions, IRQn_Type).
 *
 * TrustZone is disabled (TZEN = 0, the factory default): the CPU and every peripheral are
 * Non-secure, so these are the Non-secure aliases (0x4xxxxxxx peripherals).
 */
#ifndef HIL_U585_H
#define HIL_U585_H

#include <stdint.h>

#include "armv8m_regs.h"
#include "hil_types.h"

#define U585_REG(address) ARMV8M_REG(address)

/* ---- memory map: RM0456 §2.3 (memory organization, register boundary addresses) ---- */
/* Flash 2 MB at 0x08000000; SRAM1 192 KB at 0x20000000, SRAM2 64 KB at 0x20030000, SRAM3 512 KB
 * at 0x20040000: 768 KB contiguous. The linker script (stm32u585.ld) holds the numbers. */

/* ---- RCC, reset and clock control: RM0456 §11.8, base 0x46020C00 (§2.3) ---- */
#define U585_RCC_BASE 0x46020C00u
#define U585_RCC_CR U585_REG(U585_RCC_BASE + 0x000u)       /* §11.8.1 RCC_CR */
#define U585_RCC_CR_MSISRDY (1u << 2)
#define U585_RCC_CR_HSION (1u << 8)
#define U585_RCC_CR_HSIRDY (1u << 10)
#define U585_RCC_CR_PLL1ON (1u << 24)
#define U585_RCC_CR_PLL1RDY (1u << 25)
#define U585_RCC_ICSCR1 U585_REG(U585_RCC_BASE + 0x008u)   /* §11.8.2 RCC_ICSCR1 */
#define U585_RCC_ICSCR1_MSIRGSEL (1u << 23)                /* 1: MSISRANGE here; 0: MSISSRANGE in RCC_CSR */
#define U585_RCC_ICSCR1_MSISRANGE_SHIFT 28u                /* [31:28] */
#define U585_RCC_CFGR1 U585_REG(U585_RCC_BASE + 0x01Cu)    /* §11.8.6 RCC_CFGR1 */
#define U585_RCC_CFGR1_SW_MASK 0x3u                        /* [1:0] system clock switch */
#define U585_RCC_CFGR1_SWS_SHIFT 2u                        /* [3:2] system clock switch status */
#define U585_RCC_CFGR1_SWS_MASK (0x3u << U585_RCC_CFGR1_SWS_SHIFT)
#define U585_SYSCLK_MSIS 0u                                /* SW / SWS values */
#define U585_SYSCLK_HSI16 1u
#define U585_SYSCLK_HSE 2u
#define U585_SYSCLK_PLL1 3u
#define U585_RCC_CFGR2 U585_REG(U585_RCC_BASE + 0x020u)    /* §11.8.7 RCC_CFGR2 */
#define U585_RCC_CFGR2_HPRE_MASK 0xFu                      /* [3:0] AHB prescaler: 0xxx /1, 1000 /2 ... 1111 /512 */
#define U585_RCC_CFGR2_PPRE2_SHIFT 8u                      /* [10:8] APB2 prescaler: 0xx /1, 100 /2 ... 111 /16 */
#define U585_RCC_PLL1CFGR U585_REG(U585_RCC_BASE + 0x028u) /* §11.8.9 RCC_PLL1CFGR */
#define U585_RCC_PLL1CFGR_SRC_MASK 0x3u                    /* [1:0] 00 none, 01 MSIS, 10 HSI16, 11 HSE */
#define U585_PLL1SRC_MSIS 1u
#define U585_PLL1SRC_HSI16 2u
#define U585_RCC_PLL1CFGR_RGE_SHIFT 2u                     /* [3:2] 00: input 4-8 MHz, 11: 8-16 MHz */
#define U585_PLL1RGE_4_TO_8_MHZ 0u
#define U585_RCC_PLL1CFGR_M_SHIFT 8u                       /* [11:8] M - 1 (0000 /1 ... 1111 /16) */
#define U585_RCC_PLL1CFGR_MBOOST_SHIFT 12u                 /* [15:12] EPOD booster prescaler: 0000 /1, 0001 /2, 0010 /4, ... */
#define U585_RCC_PLL1CFGR_REN (1u << 18)                   /* pll1_r_ck output, the system clock's */
#define U585_RCC_PLL1DIVR U585_REG(U585_RCC_BASE + 0x034u) /* §11.8.12 RCC_PLL1DIVR */
#define U585_RCC_PLL1DIVR_N_MASK 0x1FFu                    /* [8:0] N - 1 */
#define U585_RCC_PLL1DIVR_P_SHIFT 9u                       /* [15:9] P - 1 */
#define U585_RCC_PLL1DIVR_Q_SHIFT 16u                      /* [22:16] Q - 1 */
#define U585_RCC_PLL1DIVR_R_SHIFT 24u                      /* [30:24] R - 1 */
#define U585_RCC_PLL1DIVR_DIV_MASK 0x7Fu
#define U585_RCC_AHB2ENR1 U585_REG(U585_RCC_BASE + 0x08Cu) /* §11.8.30 RCC_AHB2ENR1 */
#define U585_RCC_AHB2ENR1_GPIOAEN (1u << 0)
#define U585_RCC_AHB3ENR U585_REG(U585_RCC_BASE + 0x094u)  /* §11.8.32 RCC_AHB3ENR */
#define U585_RCC_AHB3ENR_PWREN (1u << 2)
#define U585_RCC_APB2ENR U585_REG(U585_RCC_BASE + 0x0A4u)  /* §11.8.35 RCC_APB2ENR */
#define U585_RCC_APB2ENR_USART1EN (1u << 14)
#define U585_RCC_CCIPR1 U585_REG(U585_RCC_BASE + 0x0E0u)   /* §11.8.46 RCC_CCIPR1 */
#define U585_RCC_CCIPR1_USART1SEL_MASK 0x3u                /* [1:0] 00: PCLK2 is USART1's kernel clock */
#define U585_RCC_CSR U585_REG(U585_RCC_BASE + 0x0F4u)      /* §11.8.50 RCC_CSR */
#define U585_RCC_CSR_MSISSRANGE_SHIFT 12u                  /* [15:12] MSIS range after reset (range 4, 4 MHz) */
#define U585_RCC_CSR_RMVF (1u << 23)                       /* write 1: clear the reset flags */
#define U585_RCC_CSR_OBLRSTF (1u << 25)
#define U585_RCC_CSR_PINRSTF (1u << 26)                    /* set with every reset: NRST is driven low internally */
#define U585_RCC_CSR_BORRSTF (1u << 27)                    /* brownout, so also power-on */
#define U585_RCC_CSR_SFTRSTF (1u << 28)
#define U585_RCC_CSR_IWDGRSTF (1u << 29)
#define U585_RCC_CSR_WWDGRSTF (1u << 30)
#define U585_RCC_CSR_LPWRRSTF (1u << 31)

/* MSIS frequency per range, RM0456 §11.8.2 (RCC_ICSCR1.MSISRANGE): MSIRC0 ranges 0-3, MSIRC1
 * 4-7 (range 4, 4 MHz, after reset), MSIRC2 8-11, MSIRC3 12-15. */
#define U585_MSIS_RANGE_HZ                                                                        \
    {48000000u, 24000000u, 16000000u, 12000000u, 4000000u, 2000000u, 1333333u, 1000000u,         \
     3072000u,  1536000u,  1024000u,  768000u,   400000u,  200000u,  133333u,  100000u}
#define U585_HSI16_HZ 16000000u /* RM0456 §11.4 (HSI16 clock), trimmed in the factory */

/* ---- PWR, power control: RM0456 §10.10, base 0x46020800 (§2.3) ---- */
#define U585_PWR_VOSR U585_REG(0x46020800u + 0x0Cu)        /* §10.10.4 PWR_VOSR, reset 0x00008000 (range 4) */
#define U585_PWR_VOSR_BOOSTRDY (1u << 14)
#define U585_PWR_VOSR_VOSRDY (1u << 15)
#define U585_PWR_VOSR_VOS_SHIFT 16u                        /* [17:16] 00 range 4 ... 11 range 1 */
#define U585_PWR_VOSR_VOS_MASK (0x3u << U585_PWR_VOSR_VOS_SHIFT)
#define U585_VOS_RANGE1 3u
#define U585_PWR_VOSR_BOOSTEN (1u << 18)                   /* must be set in range 1/2 before SYSCLK > 55 MHz */

/* ---- FLASH: RM0456 §7.9.1 FLASH_ACR, base 0x40022000 (§2.3) ---- */
#define U585_FLASH_ACR U585_REG(0x40022000u + 0x00u)
#define U585_FLASH_ACR_LATENCY_MASK 0xFu                   /* [3:0] wait states; RM0456 §7.3.3 Table 54 */

/* ---- ICACHE: RM0456 §8.7, base 0x40030400 (§2.3) ---- */
#define U585_ICACHE_CR U585_REG(0x40030400u + 0x00u)       /* §8.7.1 ICACHE_CR, reset 0x4: 2-way */
#define U585_ICACHE_CR_EN (1u << 0)
#define U585_ICACHE_SR U585_REG(0x40030400u + 0x04u)       /* §8.7.2 ICACHE_SR */
#define U585_ICACHE_SR_BUSYF (1u << 0)                     /* the invalidation started at reset is running */

/* ---- GPIOA: RM0456 §13.4, base 0x42020000 (§2.3) ---- */
#define U585_GPIOA_BASE 0x42020000u
#define U585_GPIOA_MODER U585_REG(U585_GPIOA_BASE + 0x00u) /* §13.4.1: 2 bits per pin, 10 = alternate function */
#define U585_GPIOA_PUPDR U585_REG(U585_GPIOA_BASE + 0x0Cu) /* §13.4.4: 2 bits per pin, 01 = pull-up */
#define U585_GPIOA_AFRH U585_REG(U585_GPIOA_BASE + 0x24u)  /* §13.4.10: 4 bits per pin 8-15 */
#define U585_GPIO_MODE_ALTERNATE 2u
#define U585_GPIO_PULL_UP 1u

/* ---- the link: USART1 on PA9 (TX) / PA10 (RX) ---- */
/* UM2839, "Virtual COM port": the STLINK-V3E's virtual COM port is wired to USART1 PA9/PA10;
 * DS13086, alternate function table of port A: USART1_TX on PA9 and USART1_RX on PA10 are AF7. */
#define U585_USART1_TX_PIN 9u
#define U585_USART1_RX_PIN 10u
#define U585_USART1_AF 7u

/* USART1: RM0456 §66.8, base 0x40013800 (§2.3). */
#define U585_USART1_BASE 0x40013800u
#define U585_USART1_CR1 U585_REG(U585_USART1_BASE + 0x00u) /* §66.8.1 USART_CR1 (FIFO mode) */
#define U585_USART_CR1_UE (1u << 0)
#define U585_USART_CR1_RE (1u << 2)
#define U585_USART_CR1_TE (1u << 3)
#define U585_USART_CR1_RXFNEIE (1u << 5)                    /* interrupt on RXFNE or ORE */
#define U585_USART_CR1_OVER8 (1u << 15)                     /* 0: oversampling by 16 */
#define U585_USART_CR1_FIFOEN (1u << 29)                    /* 8-byte FIFOs; written only with UE = 0 */
#define U585_USART1_BRR U585_REG(U585_USART1_BASE + 0x0Cu) /* §66.8.5 USART_BRR: USARTDIV, >= 16 (OVER8 = 0) */
#define U585_USART1_ISR U585_REG(U585_USART1_BASE + 0x1Cu) /* §66.8.9 USART_ISR (FIFO mode) */
#define U585_USART_ISR_FE (1u << 1)
#define U585_USART_ISR_NE (1u << 2)
#define U585_USART_ISR_ORE (1u << 3)
#define U585_USART_ISR_RXFNE (1u << 5)                      /* RX FIFO not empty */
#define U585_USART_ISR_TC (1u << 6)
#define U585_USART_ISR_TXFNF (1u << 7)                      /* TX FIFO not full */
#define U585_USART_ISR_TEACK (1u << 21)
#define U585_USART_ISR_REACK (1u << 22)
#define U585_USART1_ICR U585_REG(U585_USART1_BASE + 0x20u) /* §66.8.11 USART_ICR */
#define U585_USART_ICR_FECF (1u << 1)
#define U585_USART_ICR_NECF (1u << 2)
#define U585_USART_ICR_ORECF (1u << 3)
#define U585_USART1_RDR U585_REG(U585_USART1_BASE + 0x24u) /* §66.8.12 USART_RDR */
#define U585_USART1_TDR U585_REG(U585_USART1_BASE + 0x28u) /* §66.8.13 USART_TDR */

/* ---- interrupts: RM0456 §22.3, Table 187 (STM32U5 series vector table) ---- */
/* The STM32U585 has positions 0 to 125 (cmsis-device-u5: IRQn_Type ends at LSECSSD_IRQn = 125;
 * the positions above belong to other STM32U5 devices). USART1 is position 61. */
#define U585_INTERRUPTS 126u
#define U585_USART1_IRQ 61u

/* ---- shared inside bsp/b-u585i-iot02a/ ---- */

/*
 * Takes the clock tree from the reset clock (MSIS, 4 MHz) to 160 MHz (clock.c). HIL_OK, or
 * HIL_ERROR_TIMEOUT with *failure naming the flag that never came; the board then runs on a
 * clock the link can use (HSI16), or, if HSI16 itself never became ready, still on MSIS.
 */
hil_status u585_clock_init(const char **failure);

/* Polls *reg until (*reg & mask) == value, a bounded number of times (clock.c): 1 when it came,
 * 0 when it never did. */
int u585_wait_until(volatile uint32_t *reg, uint32_t mask, uint32_t value);

/* The CPU clock (HCLK) and USART1's kernel clock (PCLK2), computed from the RCC registers as
 * they are set, not from what was asked. HIL_ERROR_UNSUPPORTED for a source this board support
 * never selects (HSE: its frequency is not known here). */
hil_status u585_hclk_hz(uint32_t *hz);
hil_status u585_pclk2_hz(uint32_t *hz);

/* USART1's interrupt: received bytes into the ring buffer (board.c; installed by vectors.c). */
void u585_usart1_handler(void);

#endif /* HIL_U585_H */
