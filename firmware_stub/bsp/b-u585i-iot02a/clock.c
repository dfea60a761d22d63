/*
 * The STM32U585's clock tree, from the reset clock (MSIS, 4 MHz, voltage range 4, 0 flash wait
 * states) to 160 MHz, in the order RM0456 §10.5.4 (dynamic voltage scaling management) gives:
 *
 *   1. HSI16 on. It feeds PLL1 and the EPOD booster: HSI16 / 3 = 5.33 MHz for the PLL and
 *      HSI16 / 2 = 8 MHz for the booster sit inside their 4-8 MHz and 4-16 MHz input ranges
 *      (RM0456 §11.8.9, RCC_PLL1CFGR), where MSIS at 4 MHz would sit on both lower bounds.
 *   2. Flash latency 4 wait states: 160 MHz in range 1 needs 4 (RM0456 §7.3.3, Table 54), and
 *      more wait states than needed are safe at any lower clock, the fallback's included.
 *   3. PLL1: source HSI16, M = 3 (5.33 MHz, input range 4-8 MHz), N = 60 (VCO 320 MHz, inside
 *      the 128-544 MHz the datasheet DS13086 gives), R = 2: 160 MHz on pll1_r_ck.
 *   4. Voltage range 1 (PWR_VOSR.VOS = 11), wait for VOSRDY.
 *   5. EPOD booster (BOOSTEN), wait for BOOSTRDY: RM0456 §10.10.4 asks for it in range 1 before
 *      the system clock goes above 55 MHz; its clock (PLL1MBOOST) is set in step 3, before
 *      BOOSTEN, as the field may only be written with the booster off.
 *   6. PLL1 on, wait for PLL1RDY; then SYSCLK = PLL1 (RCC_CFGR1.SW), wait until SWS shows it.
 * AHB and APB prescalers stay at their reset value, 1: HCLK = PCLK2 = 160 MHz.
 *
 * Every flag is waited for a bounded number of polls. When one never comes, the system clock
 * goes back to HSI16 (16 MHz: within voltage range 4 and the wait states set), which the link can
 * run on, and the flag's name is returned for the harness to read.
 */
#include <stddef.h>
#include <stdint.h>

#include "u585.h"

#define PLL1_M 3u
#define PLL1_N 60u
#define PLL1_R 2u
#define PLL1_P_Q 2u          /* unused outputs (left disabled), kept at their reset divider */
#define PLL1_MBOOST_DIV2 1u  /* booster clock HSI16 / 2 */
#define FLASH_WAIT_STATES 4u

/* Polls of a ready flag before it counts as never set: about 5 cycles each, so at most ~1.3 s at
 * the 4 MHz reset clock; HSI16, the PLL, the regulator and the booster need microseconds. */
#define READY_POLLS 1000000u

int u585_wait_until(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    for (uint32_t poll = 0; poll < READY_POLLS; ++poll) {
        if ((*reg & mask) == value) {
            return 1;
        }
    }
    return 0;
}

static void switch_sysclk(uint32_t source)
{
    U585_RCC_CFGR1 = (U585_RCC_CFGR1 & ~U585_RCC_CFGR1_SW_MASK) | source;
}

static int sysclk_is(uint32_t source)
{
    return u585_wait_until(&U585_RCC_CFGR1, U585_RCC_CFGR1_SWS_MASK, source << U585_RCC_CFGR1_SWS_SHIFT);
}

/* Back to HSI16 after a later step failed: ready, and slow enough for any state the steps left. */
static hil_status fall_back(const char **failure, const char *flag)
{
    switch_sysclk(U585_SYSCLK_HSI16);
    (void)sysclk_is(U585_SYSCLK_HSI16); /* the clock actually running is reported from SWS anyway */
    *failure = flag;
    return HIL_ERROR_TIMEOUT;
}

hil_status u585_clock_init(const char **failure)
{
    U585_RCC_AHB3ENR |= U585_RCC_AHB3ENR_PWREN;
    (void)U585_RCC_AHB3ENR; /* the enable has reached PWR before its registers are written */

    U585_RCC_CR |= U585_RCC_CR_HSION;
    if (!u585_wait_until(&U585_RCC_CR, U585_RCC_CR_HSIRDY, U585_RCC_CR_HSIRDY)) {
        *failure = "HSIRDY never set";
        return HIL_ERROR_TIMEOUT; /* still on MSIS */
    }
    /* RM0456 §7.3.3: the new latency must be read back before the clock goes up. */
    U585_FLASH_ACR = (U585_FLASH_ACR & ~U585_FLASH_ACR_LATENCY_MASK) | FLASH_WAIT_STATES;
    if (!u585_wait_until(&U585_FLASH_ACR, U585_FLASH_ACR_LATENCY_MASK, FLASH_WAIT_STATES)) {
        *failure = "FLASH_ACR.LATENCY never read back 4 wait states";
        return HIL_ERROR_TIMEOUT; /* still on MSIS: HSI16 would need a wait state */
    }

    U585_RCC_PLL1CFGR = U585_PLL1SRC_HSI16 | (U585_PLL1RGE_4_TO_8_MHZ << U585_RCC_PLL1CFGR_RGE_SHIFT) |
                        ((PLL1_M - 1u) << U585_RCC_PLL1CFGR_M_SHIFT) |
                        (PLL1_MBOOST_DIV2 << U585_RCC_PLL1CFGR_MBOOST_SHIFT) | U585_RCC_PLL1CFGR_REN;
    U585_RCC_PLL1DIVR = (PLL1_N - 1u) | ((PLL1_P_Q - 1u) << U585_RCC_PLL1DIVR_P_SHIFT) |
                        ((PLL1_P_Q - 1u) << U585_RCC_PLL1DIVR_Q_SHIFT) | ((PLL1_R - 1u) << U585_RCC_PLL1DIVR_R_SHIFT);

    U585_PWR_VOSR = (U585_PWR_VOSR & ~U585_PWR_VOSR_VOS_MASK) | (U585_VOS_RANGE1 << U585_PWR_VOSR_VOS_SHIFT);
    if (!u585_wait_until(&U585_PWR_VOSR, U585_PWR_VOSR_VOSRDY, U585_PWR_VOSR_VOSRDY)) {
        return fall_back(failure, "VOSRDY never set");
    }
    U585_PWR_VOSR |= U585_PWR_VOSR_BOOSTEN;
    if (!u585_wait_until(&U585_PWR_VOSR, U585_PWR_VOSR_BOOSTRDY, U585_PWR_VOSR_BOOSTRDY)) {
        return fall_back(failure, "BOOSTRDY never set");
    }
    U585_RCC_CR |= U585_RCC_CR_PLL1ON;
    if (!u585_wait_until(&U585_RCC_CR, U585_RCC_CR_PLL1RDY, U585_RCC_CR_PLL1RDY)) {
        return fall_back(failure, "PLL1RDY never set");
    }
    switch_sysclk(U585_SYSCLK_PLL1);
    if (!sysclk_is(U585_SYSCLK_PLL1)) {
        return fall_back(failure, "RCC_CFGR1.SWS never showed PLL1");
    }
    *failure = NULL;
    return HIL_OK;
}

static uint32_t msis_hz(void)
{
    static const uint32_t range_hz[16] = U585_MSIS_RANGE_HZ;
    const uint32_t range = (U585_RCC_ICSCR1 & U585_RCC_ICSCR1_MSIRGSEL) != 0u
                               ? U585_RCC_ICSCR1 >> U585_RCC_ICSCR1_MSISRANGE_SHIFT
                               : U585_RCC_CSR >> U585_RCC_CSR_MSISSRANGE_SHIFT;
    return range_hz[range & 0xFu];
}

/* pll1_r_ck = input / M * N / R (PLL1FRACEN is never set here, so N has no fraction). */
static hil_status pll1_r_hz(uint32_t *hz)
{
    const uint32_t config = U585_RCC_PLL1CFGR;
    const uint32_t dividers = U585_RCC_PLL1DIVR;
    uint32_t input;
    switch (config & U585_RCC_PLL1CFGR_SRC_MASK) {
    case U585_PLL1SRC_MSIS:
        input = msis_hz();
        break;
    case U585_PLL1SRC_HSI16:
        input = U585_HSI16_HZ;
        break;
    default:
        return HIL_ERROR_UNSUPPORTED; /* no source, or HSE */
    }
    const uint64_t m = ((config >> U585_RCC_PLL1CFGR_M_SHIFT) & 0xFu) + 1u;
    const uint64_t n = (dividers & U585_RCC_PLL1DIVR_N_MASK) + 1u;
    const uint64_t r = ((dividers >> U585_RCC_PLL1DIVR_R_SHIFT) & U585_RCC_PLL1DIVR_DIV_MASK) + 1u;
    *hz = (uint32_t)(input * n / (m * r));
    return HIL_OK;
}

static hil_status sysclk_hz(uint32_t *hz)
{
    switch ((U585_RCC_CFGR1 & U585_RCC_CFGR1_SWS_MASK) >> U585_RCC_CFGR1_SWS_SHIFT) {
    case U585_SYSCLK_MSIS:
        *hz = msis_hz();
        return HIL_OK;
    case U585_SYSCLK_HSI16:
        *hz = U585_HSI16_HZ;
        return HIL_OK;
    case U585_SYSCLK_PLL1:
        return pll1_r_hz(hz);
    default:
        return HIL_ERROR_UNSUPPORTED; /* HSE */
    }
}

hil_status u585_hclk_hz(uint32_t *hz)
{
    static const uint8_t hpre_shift[8] = {1u, 2u, 3u, 4u, 6u, 7u, 8u, 9u}; /* HPRE 1000 .. 1111 */
    uint32_t sysclk = 0u;
    const hil_status status = sysclk_hz(&sysclk);
    if (status != HIL_OK) {
        return status;
    }
    const uint32_t hpre = U585_RCC_CFGR2 & U585_RCC_CFGR2_HPRE_MASK;
    *hz = hpre < 8u ? sysclk : sysclk >> hpre_shift[hpre - 8u];
    return HIL_OK;
}

hil_status u585_pclk2_hz(uint32_t *hz)
{
    uint32_t hclk = 0u;
    const hil_status status = u585_hclk_hz(&hclk);
    if (status != HIL_OK) {
        return status;
    }
    const uint32_t ppre2 = (U585_RCC_CFGR2 >> U585_RCC_CFGR2_PPRE2_SHIFT) & 0x7u; /* 0xx /1, 100 /2 ... 111 /16 */
    *hz = ppre2 < 4u ? hclk : hclk >> (ppre2 - 3u);
    return HIL_OK;
}
