/*
 * Bounded text for the messages the firmware composes (no printf on a device): the application's
 * ERROR bodies, a board's fault report and its init-failure message. Each writer appends at `out`,
 * never writes at or past `end`, and returns where the text now ends; the caller adds the NUL.
 */
#ifndef HIL_TEXT_H
#define HIL_TEXT_H

#include <stdint.h>

static inline char *hil_text_append(char *out, const char *end, const char *text)
{
    while (*text != '\0' && out < end) {
        *out++ = *text++;
    }
    return out;
}

static inline char *hil_text_decimal(char *out, const char *end, uint32_t value)
{
    char reversed[10]; /* 4294967295 */
    int count = 0;
    do {
        reversed[count++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (count > 0 && out < end) {
        *out++ = reversed[--count];
    }
    return out;
}

static inline char *hil_text_hex(char *out, const char *end, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    out = hil_text_append(out, end, "0x");
    for (int shift = 28; shift >= 0 && out < end; shift -= 4) {
        *out++ = digits[(value >> shift) & 0xFu];
    }
    return out;
}

#endif /* HIL_TEXT_H */
