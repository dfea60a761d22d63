/*
 * The few Armv8-M DSP-extension instructions the kernels use, each with a portable C definition
 * of the same integer semantics.
 *
 * HIL_DSP is 1 when a kernel should take its DSP path:
 * - on a CPU with the DSP extension (__ARM_FEATURE_DSP: Cortex-M33 built with +dsp, M4, M7, M55),
 *   where every hil_ function below is the instruction itself;
 * - on any other machine built with -DHIL_DSP_EMULATE=1 (the host engine that judges the kernels
 *   against the reference), where each is the C below: the DSP algorithm runs on the host, with
 *   the instructions' exact results, so host tests check the code path the devices run.
 * Otherwise HIL_DSP is 0 and kernels take their portable loops. The gate is the CPU feature,
 * never the compiler.
 *
 * Packed operands: a uint32_t holds four int8 lanes (byte 0 is the lowest address) or two int16
 * halfword lanes (lane 0 in bits 0..15). Results wrap modulo 2^32, as the instructions do (SMLAD
 * also sets the Q flag on overflow, which no kernel reads).
 */
#ifndef HIL_DSP_H
#define HIL_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define HIL_DSP 1
#define HIL_DSP_INSTRUCTIONS 1
#include <arm_acle.h>
#elif defined(HIL_DSP_EMULATE) && HIL_DSP_EMULATE
#define HIL_DSP 1
#define HIL_DSP_INSTRUCTIONS 0
#else
#define HIL_DSP 0
#define HIL_DSP_INSTRUCTIONS 0
#endif

/* Four bytes from any address, as one word (LDR; unaligned access is allowed on Armv7-M/v8-M.main). */
static inline uint32_t hil_read_u32(const void *address)
{
    uint32_t word;
    memcpy(&word, address, sizeof(word));
    return word;
}

/* PKHBT (lane1 LSL #16): two int16 halfword lanes in one word, lane 0 in bits 0..15. */
static inline uint32_t hil_c_halfwords(int32_t lane0, int32_t lane1)
{
    return ((uint32_t)lane0 & 0xFFFFu) | ((uint32_t)lane1 << 16);
}

/*
 * The instructions' semantics in C. Always defined: they are what the hil_ names are without the
 * DSP extension, and the reference the instructions are checked against on the emulator
 * (tests/firmware/kernel_selftest.c).
 */

/* SXTB16: int8 lanes 0 and 2 sign-extended to halfword lanes 0 and 1. */
static inline uint32_t hil_c_sxtb16(uint32_t x)
{
    return hil_c_halfwords((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}

/* SXTB16 with ROR #8: int8 lanes 1 and 3 sign-extended to halfword lanes 0 and 1. */
static inline uint32_t hil_c_sxtb16_ror8(uint32_t x)
{
    return hil_c_halfwords((int8_t)((x >> 8) & 0xFFu), (int8_t)(x >> 24));
}

/* SMLAD: acc + lane0(a) * lane0(b) + lane1(a) * lane1(b), halfword lanes signed. */
static inline int32_t hil_c_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t low = (int32_t)(int16_t)(a & 0xFFFFu) * (int16_t)(b & 0xFFFFu);
    const int32_t high = (int32_t)(int16_t)(a >> 16) * (int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)low + (uint32_t)high);
}

/* SMLABB: acc + lane0(a) * lane0(b), halfword lanes signed. */
static inline int32_t hil_c_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t low = (int32_t)(int16_t)(a & 0xFFFFu) * (int16_t)(b & 0xFFFFu);
    return (int32_t)((uint32_t)acc + (uint32_t)low);
}

/* SMLABT: acc + lane0(a) * lane1(b), halfword lanes signed. */
static inline int32_t hil_c_smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlabb(a, b >> 16, acc);
}

/* SMLATB: acc + lane1(a) * lane0(b), halfword lanes signed. */
static inline int32_t hil_c_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlabb(a >> 16, b, acc);
}

/* SMMULR: the high word of a * b, rounded: floor((a * b + 2^31) / 2^32). */
static inline int32_t hil_c_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}

/* SMMLAR: acc + the high word of a * b, rounded (acc * 2^32 + a * b + 2^31, high word, modulo 2^32). */
static inline int32_t hil_c_smmlar(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)hil_c_smmulr(a, b));
}

/* SSAT #8: value saturated to [-128, 127]. */
static inline int32_t hil_c_ssat8(int32_t value)
{
    return value < INT8_MIN ? INT8_MIN : (value > INT8_MAX ? INT8_MAX : value);
}

#if HIL_DSP_INSTRUCTIONS

static inline uint32_t hil_halfwords(int32_t lane0, int32_t lane1)
{
    uint32_t result;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(result) : "r"(lane0), "r"(lane1));
    return result;
}

static inline uint32_t hil_sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16((int32_t)x);
}

static inline uint32_t hil_sxtb16_ror8(uint32_t x)
{
    uint32_t result;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(result) : "r"(x));
    return result;
}

static inline int32_t hil_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int32_t)a, (int32_t)b, acc);
}

static inline int32_t hil_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabb((int32_t)a, (int32_t)b, acc);
}

static inline int32_t hil_smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabt((int32_t)a, (int32_t)b, acc);
}

static inline int32_t hil_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlatb((int32_t)a, (int32_t)b, acc);
}

static inline int32_t hil_smmulr(int32_t a, int32_t b)
{
    int32_t result;
    __asm__("smmulr %0, %1, %2" : "=r"(result) : "r"(a), "r"(b));
    return result;
}

static inline int32_t hil_smmlar(int32_t a, int32_t b, int32_t acc)
{
    int32_t result;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(result) : "r"(a), "r"(b), "r"(acc));
    return result;
}

static inline int32_t hil_ssat8(int32_t value)
{
    return __ssat(value, 8);
}

#else

static inline uint32_t hil_halfwords(int32_t lane0, int32_t lane1)
{
    return hil_c_halfwords(lane0, lane1);
}

static inline uint32_t hil_sxtb16(uint32_t x)
{
    return hil_c_sxtb16(x);
}

static inline uint32_t hil_sxtb16_ror8(uint32_t x)
{
    return hil_c_sxtb16_ror8(x);
}

static inline int32_t hil_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlad(a, b, acc);
}

static inline int32_t hil_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlabb(a, b, acc);
}

static inline int32_t hil_smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlabt(a, b, acc);
}

static inline int32_t hil_smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return hil_c_smlatb(a, b, acc);
}

static inline int32_t hil_smmulr(int32_t a, int32_t b)
{
    return hil_c_smmulr(a, b);
}

static inline int32_t hil_smmlar(int32_t a, int32_t b, int32_t acc)
{
    return hil_c_smmlar(a, b, acc);
}

static inline int32_t hil_ssat8(int32_t value)
{
    return hil_c_ssat8(value);
}

#endif /* HIL_DSP_INSTRUCTIONS */

#endif /* HIL_DSP_H */
