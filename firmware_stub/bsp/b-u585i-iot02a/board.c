/*
 * B-U585I-IOT02A board (STM32U585AII6, bare metal, TrustZone disabled): the vector table, the
 * clock tree (clock.c), the instruction cache, USART1 on the ST-LINK virtual COM port with
 * interrupt-driven reception, the DWT cycle counter, the reset reason. Startup, stack painting
 * and the fault capture are bsp/armv8m/'s. Every register is in u585.h with its source.
 *
 * The link: USART1, 8 data bits, no parity, 1 stop bit, HIL_BAUD baud (-DHIL_BAUD=..., which the
 * build takes from targets/u585.toml's link.baud or --baud), its divider computed from the clock the RCC
 * registers say USART1 gets. Received bytes go from the 8-byte receive FIFO into a ring buffer in
 * the interrupt handler, so none is lost while the application computes; a byte lost anyway (an
 * overrun, or a full ring) is counted and reported to the reader (HIL_ERROR_OVERRUN).
 */
#include "hil_board.h"

#include "armv8m.h"
#include "armv8m_regs.h"
#include "hil_text.h"
#include "u585.h"

#ifndef HIL_BAUD
#error "build with -DHIL_BAUD=<the link's baud rate>u (harness/build/firmware.py passes targets/u585.toml's link.baud)"
#endif

/* Holds two maximal frames (~1 KB each), so a retransmitted request arriving while the model runs
 * waits here whole. A power of two: the indices below wrap by masking. */
#define RX_RING_BYTES 2048u
typedef char rx_ring_is_a_power_of_two[(RX_RING_BYTES & (RX_RING_BYTES - 1u)) == 0u ? 1 : -1];

#define FAULT_EXIT_BASE 128
/* The oversampling by 16 tolerates more clock error at the receiver; by 8 is used only when the
 * divider by 16 would round the rate off by more than this (1 %: on the 16 MHz fallback clock). */
#define BAUD_ERROR_PERCENT_MAX 1u

extern uint32_t __hil_stack_end[];

/* Entry 0 is the initial stack pointer; then the 15 system exceptions; then the 126 interrupts of
 * RM0456 Table 187. Only USART1's is served; any other is unexpected and reported as a fault. */
__attribute__((section(".vectors"), used)) const armv8m_vector hil_board_vectors[16u + U585_INTERRUPTS] = {
    [0] = (armv8m_vector)(uintptr_t)__hil_stack_end,
    [1] = hil_reset_handler,
    [2 ... 15] = hil_fault_entry, /* NMI, HardFault, MemManage, BusFault, UsageFault, SecureFault, ..., SysTick */
    [16 ... 16u + U585_USART1_IRQ - 1u] = hil_fault_entry,
    [16u + U585_USART1_IRQ] = u585_usart1_handler,
    [16u + U585_USART1_IRQ + 1u ... 16u + U585_INTERRUPTS - 1u] = hil_fault_entry,
};

static volatile uint8_t rx_ring[RX_RING_BYTES];
static volatile uint32_t rx_head;          /* bytes written by the handler, ever */
static volatile uint32_t rx_tail;          /* bytes taken by the reader, ever */
static volatile uint32_t rx_overruns;      /* USART1 overrun errors (ORE), cleared in the handler */
static volatile uint32_t rx_dropped;       /* bytes that found the ring full */
static uint32_t rx_losses_reported;        /* rx_overruns + rx_dropped the reader has reported */
static int link_up;                        /* USART1 is enabled: the polled write may use it */
static hil_reset_reason reset_reason;
static volatile int exit_code;             /* what hil_board_exit stopped with, for a debugger */
static char failure_text[96];

/* ---- init ---- */

static hil_status enable_icache(const char **failure)
{
    /* An invalidation starts at reset; the cache is enabled once it is over (RM0456 §8.7.2). */
    if (!u585_wait_until(&U585_ICACHE_SR, U585_ICACHE_SR_BUSYF, 0u)) {
        *failure = "ICACHE_SR.BUSYF never cleared";
        return HIL_ERROR_TIMEOUT;
    }
    U585_ICACHE_CR |= U585_ICACHE_CR_EN;
    return HIL_OK;
}

static hil_status enable_cycle_counter(const char **failure)
{
    ARMV8M_DEMCR |= ARMV8M_DEMCR_TRCENA;
    if ((ARMV8M_DWT_CTRL & ARMV8M_DWT_CTRL_NOCYCCNT) != 0u) {
        *failure = "the DWT has no cycle counter";
        return HIL_ERROR_UNSUPPORTED;
    }
    ARMV8M_DWT_CYCCNT = 0u;
    ARMV8M_DWT_CTRL |= ARMV8M_DWT_CTRL_CYCCNTENA;
    return HIL_OK;
}

/* Reset flags (RM0456 §11.8.50, RCC_CSR): the most telling first, as NRST (PINRSTF) is pulled low
 * by every reset; then cleared, so the next reset reports only itself. */
static hil_reset_reason read_reset_reason(void)
{
    const uint32_t flags = U585_RCC_CSR;
    U585_RCC_CSR |= U585_RCC_CSR_RMVF;
    if ((flags & U585_RCC_CSR_BORRSTF) != 0u) {
        return HIL_RESET_POWER_ON;
    }
    if ((flags & (U585_RCC_CSR_IWDGRSTF | U585_RCC_CSR_WWDGRSTF)) != 0u) {
        return HIL_RESET_WATCHDOG;
    }
    if ((flags & U585_RCC_CSR_SFTRSTF) != 0u) {
        return HIL_RESET_SOFTWARE;
    }
    if ((flags & (U585_RCC_CSR_OBLRSTF | U585_RCC_CSR_LPWRRSTF)) != 0u) {
        return HIL_RESET_OTHER;
    }
    return (flags & U585_RCC_CSR_PINRSTF) != 0u ? HIL_RESET_PIN : HIL_RESET_OTHER;
}

/* USART_BRR for `baud` from a kernel clock of `hz` (RM0456 §66.8.5): USARTDIV = hz / baud with
 * OVER8 = 0 (BRR = USARTDIV, at least 16), or 2 * hz / baud with OVER8 = 1 (BRR[3:0] =
 * USARTDIV[3:0] >> 1). HIL_ERROR_UNSUPPORTED when the clock is too slow for the rate. */
static hil_status usart_divider(uint32_t hz, uint32_t baud, uint32_t *brr, uint32_t *over8)
{
    const uint64_t by16 = ((uint64_t)hz + baud / 2u) / baud;
    const uint64_t error16 = by16 * baud > hz ? by16 * baud - hz : hz - by16 * baud; /* in Hz of the clock */
    if (by16 >= 16u && by16 <= 0xFFFFu && error16 * 100u <= (uint64_t)hz * BAUD_ERROR_PERCENT_MAX) {
        *brr = (uint32_t)by16;
        *over8 = 0u;
        return HIL_OK;
    }
    const uint64_t by8 = (2u * (uint64_t)hz + baud / 2u) / baud;
    if (by8 < 16u || by8 > 0xFFFFu) {
        return HIL_ERROR_UNSUPPORTED;
    }
    *brr = (uint32_t)((by8 & ~0xFu) | ((by8 & 0xFu) >> 1));
    *over8 = U585_USART_CR1_OVER8;
    return HIL_OK;
}

static void configure_pins(void)
{
    U585_RCC_AHB2ENR1 |= U585_RCC_AHB2ENR1_GPIOAEN;
    (void)U585_RCC_AHB2ENR1;
    const uint32_t tx = U585_USART1_TX_PIN, rx = U585_USART1_RX_PIN;
    U585_GPIOA_AFRH = (U585_GPIOA_AFRH & ~((0xFu << 4u * (tx - 8u)) | (0xFu << 4u * (rx - 8u)))) |
                      (U585_USART1_AF << 4u * (tx - 8u)) | (U585_USART1_AF << 4u * (rx - 8u));
    U585_GPIOA_PUPDR = (U585_GPIOA_PUPDR & ~(0x3u << 2u * rx)) | (U585_GPIO_PULL_UP << 2u * rx); /* idle high if unplugged */
    U585_GPIOA_MODER = (U585_GPIOA_MODER & ~((0x3u << 2u * tx) | (0x3u << 2u * rx))) |
                       (U585_GPIO_MODE_ALTERNATE << 2u * tx) | (U585_GPIO_MODE_ALTERNATE << 2u * rx);
}

static hil_status start_usart(const char **failure)
{
    uint32_t pclk2 = 0u, brr = 0u, over8 = 0u;
    if (u585_pclk2_hz(&pclk2) != HIL_OK || usart_divider(pclk2, HIL_BAUD, &brr, &over8) != HIL_OK) {
        *failure = "USART1 cannot run at the link's baud rate on the clock the board runs on";
        return HIL_ERROR_CLOSED;
    }
    U585_RCC_APB2ENR |= U585_RCC_APB2ENR_USART1EN;
    (void)U585_RCC_APB2ENR;
    U585_RCC_CCIPR1 &= ~U585_RCC_CCIPR1_USART1SEL_MASK; /* kernel clock PCLK2 */
    configure_pins();

    U585_USART1_CR1 = 0u;
    U585_USART1_BRR = brr;
    U585_USART1_CR1 = U585_USART_CR1_FIFOEN | over8 | U585_USART_CR1_RXFNEIE | U585_USART_CR1_TE | U585_USART_CR1_RE;
    U585_USART1_CR1 |= U585_USART_CR1_UE; /* FIFOEN and OVER8 are written with UE = 0 */
    const uint32_t acknowledged = U585_USART_ISR_TEACK | U585_USART_ISR_REACK;
    if (!u585_wait_until(&U585_USART1_ISR, acknowledged, acknowledged)) {
        *failure = "USART1_ISR.TEACK or REACK never set";
        return HIL_ERROR_CLOSED;
    }
    ARMV8M_NVIC_ISER(U585_USART1_IRQ) = ARMV8M_NVIC_BIT(U585_USART1_IRQ);
    link_up = 1;
    return HIL_OK;
}

/* "<what failed>; the CPU runs at <n> Hz": the clock read back from the RCC registers, so the
 * harness learns both what failed and what the board fell back to. */
static const char *describe_failure(const char *what)
{
    char *const end = failure_text + sizeof(failure_text) - 1u;
    char *out = hil_text_append(failure_text, end, what);
    uint32_t hz = 0u;
    if (u585_hclk_hz(&hz) == HIL_OK) {
        out = hil_text_append(out, end, "; the CPU runs at ");
        out = hil_text_decimal(out, end, hz);
        out = hil_text_append(out, end, " Hz");
    }
    *out = '\0';
    return failure_text;
}

hil_status hil_board_init(const char **failure)
{
    reset_reason = read_reset_reason();
    const char *what = 0;
    hil_status status = u585_clock_init(&what);
    if (status == HIL_OK) {
        status = enable_icache(&what);
    }
    if (status == HIL_OK) {
        status = enable_cycle_counter(&what);
    }
    const hil_status link = start_usart(failure); /* on whatever clock the steps above left */
    if (link != HIL_OK) {
        return link;
    }
    *failure = status == HIL_OK ? NULL : describe_failure(what);
    return status;
}

/* ---- the link ---- */

void u585_usart1_handler(void)
{
    const uint32_t errors = U585_USART1_ISR & (U585_USART_ISR_ORE | U585_USART_ISR_FE | U585_USART_ISR_NE);
    if (errors != 0u) {
        U585_USART1_ICR = U585_USART_ICR_ORECF | U585_USART_ICR_FECF | U585_USART_ICR_NECF;
        if ((errors & U585_USART_ISR_ORE) != 0u) {
            rx_overruns = rx_overruns + 1u; /* a damaged byte (FE, NE) is left to the frame's CRC */
        }
    }
    while ((U585_USART1_ISR & U585_USART_ISR_RXFNE) != 0u) {
        const uint8_t byte = (uint8_t)U585_USART1_RDR;
        const uint32_t head = rx_head;
        if (head - rx_tail >= RX_RING_BYTES) {
            rx_dropped = rx_dropped + 1u;
        } else {
            rx_ring[head & (RX_RING_BYTES - 1u)] = byte;
            rx_head = head + 1u;
        }
    }
}

hil_status hil_board_uart_read(uint8_t *byte)
{
    if (byte == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    for (;;) {
        const uint32_t losses = rx_overruns + rx_dropped;
        if (losses != rx_losses_reported) {
            rx_losses_reported = losses;
            return HIL_ERROR_OVERRUN;
        }
        const uint32_t tail = rx_tail;
        if (rx_head != tail) {
            *byte = rx_ring[tail & (RX_RING_BYTES - 1u)];
            rx_tail = tail + 1u;
            return HIL_OK;
        }
    }
}

hil_status hil_board_uart_write(const uint8_t *data, size_t length)
{
    if (data == NULL && length > 0u) {
        return HIL_ERROR_ARGUMENT;
    }
    for (size_t i = 0; i < length; ++i) {
        while ((U585_USART1_ISR & U585_USART_ISR_TXFNF) == 0u) {
        }
        U585_USART1_TDR = data[i];
    }
    return HIL_OK;
}

/* The ordinary write polls too; this one also waits until the last stop bit has left (TC), as the
 * board stops right after, and refuses before USART1 is up (a fault during startup). */
hil_status hil_board_uart_write_polled(const uint8_t *data, size_t length)
{
    if (!link_up) {
        return HIL_ERROR_CLOSED;
    }
    const hil_status status = hil_board_uart_write(data, length);
    while ((U585_USART1_ISR & U585_USART_ISR_TC) == 0u) {
    }
    return status;
}

/* ---- counter, reset reason, stop ---- */

uint32_t hil_board_counter(void)
{
    return ARMV8M_DWT_CYCCNT;
}

void hil_board_counter_align(void)
{
    /* Every cycle counts: nothing to align. */
}

hil_counter_unit hil_board_counter_unit(void)
{
    return HIL_COUNTER_CYCLES;
}

/* The CPU clock as the RCC registers say it is, so a board left on a fallback clock says so. */
hil_status hil_board_counter_hz(uint32_t *hz)
{
    if (hz == NULL) {
        return HIL_ERROR_ARGUMENT;
    }
    return u585_hclk_hz(hz);
}

hil_reset_reason hil_board_reset_reason(void)
{
    return reset_reason;
}

/* Stops where a debugger sees it: interrupts masked, sleeping, the code in exit_code. */
static void __attribute__((noreturn)) stop(int code)
{
    exit_code = code;
    __asm__ volatile("cpsid i" ::: "memory");
    for (;;) {
        __asm__ volatile("wfi");
    }
}

void hil_board_exit(int code)
{
    stop(code);
}

void hil_board_fault_stop(const hil_fault *fault)
{
    stop(FAULT_EXIT_BASE + (int)fault->exception);
}
