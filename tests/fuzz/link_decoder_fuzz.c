/*
 * libFuzzer harness for the device side of the link's framing (firmware_stub/app/link.c), built by
 * tests/test_fuzz_link_decoder.py with clang -fsanitize=fuzzer,address,undefined.
 *
 * The board here is a fake: its UART delivers the fuzzer's bytes and then reports the link closed,
 * and what the device writes is checked to be a well-formed frame. The first input byte picks how
 * the rest reaches the decoder:
 *   even: the raw byte stream, as a damaged or hostile host would send it;
 *   odd:  the rest as a packet whose CRC and length field are made right, COBS-encoded and framed,
 *         so the fuzzer gets past the CRC to the checks behind it.
 * Every packet the decoder accepts must keep its promises (length <= HIL_LINK_MAX_BODY, body inside
 * the packet); the harness answers it with a response that echoes the body, exercising the encoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hil_board.h"
#include "link.h"

static const uint8_t *uart_data;
static size_t uart_length;
static size_t uart_position;

hil_status hil_board_uart_read(uint8_t *byte)
{
    if (uart_position >= uart_length) {
        return HIL_ERROR_CLOSED;
    }
    *byte = uart_data[uart_position++];
    return HIL_OK;
}

/* Every frame the device sends: 0x00, COBS without any 0x00, 0x00; decodable, with a right CRC. */
hil_status hil_board_uart_write(const uint8_t *data, size_t length)
{
    static uint8_t decoded[HIL_LINK_MAX_ENCODED];
    if (length < 4u || data[0] != 0u || data[length - 1u] != 0u || memchr(data + 1, 0, length - 2u) != NULL ||
        length - 2u > sizeof(decoded)) {
        abort();
    }
    size_t decoded_length = 0;
    if (hil_cobs_decode(data + 1, length - 2u, decoded, &decoded_length) != HIL_OK ||
        decoded_length < HIL_LINK_HEADER_BYTES + HIL_LINK_CRC_BYTES) {
        abort();
    }
    const size_t covered = decoded_length - HIL_LINK_CRC_BYTES;
    if (hil_get_u16(&decoded[2]) != covered - HIL_LINK_HEADER_BYTES ||
        hil_crc32(0u, decoded, covered) != hil_get_u32(&decoded[covered])) {
        abort();
    }
    return HIL_OK;
}

hil_status hil_board_uart_write_polled(const uint8_t *data, size_t length)
{
    return hil_board_uart_write(data, length);
}

/* The odd mode: the packet made right, framed as a host would frame it. */
static size_t frame_fixed_packet(const uint8_t *data, size_t size, uint8_t *frame)
{
    static uint8_t packet[HIL_LINK_MAX_PACKET + 64u];
    size_t body = size < HIL_LINK_HEADER_BYTES ? 0u : size - HIL_LINK_HEADER_BYTES;
    if (body > HIL_LINK_MAX_BODY + 32u) {
        body = HIL_LINK_MAX_BODY + 32u; /* a little over the limit, to reach the length check */
    }
    memset(packet, 0, HIL_LINK_HEADER_BYTES);
    memcpy(packet, data, size < HIL_LINK_HEADER_BYTES ? size : HIL_LINK_HEADER_BYTES);
    memcpy(packet + HIL_LINK_HEADER_BYTES, data + (size - body), body);
    hil_put_u16(&packet[2], (uint16_t)body);
    const size_t covered = HIL_LINK_HEADER_BYTES + body;
    hil_put_u32(&packet[covered], hil_crc32(0u, packet, covered));
    frame[0] = 0u;
    const size_t encoded = hil_cobs_encode(packet, covered + HIL_LINK_CRC_BYTES, frame + 1);
    frame[1u + encoded] = 0u;
    return encoded + 2u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[HIL_COBS_MAX_ENCODED(HIL_LINK_MAX_PACKET + 64u) + 2u];
    if (size == 0u) {
        return 0;
    }
    uart_data = data + 1;
    uart_length = size - 1u;
    if (data[0] & 1u) {
        uart_length = frame_fixed_packet(data + 1, size - 1u, frame);
        uart_data = frame;
    }
    uart_position = 0;
    for (;;) {
        hil_packet packet;
        const hil_link_result result = hil_link_receive(&packet);
        if (result == HIL_LINK_CLOSED) {
            return 0;
        }
        if (result == HIL_LINK_BAD_FRAME) {
            if (hil_link_send_nak() != HIL_OK) {
                abort();
            }
            continue;
        }
        if (packet.length > HIL_LINK_MAX_BODY) {
            abort();
        }
        /* Echo the body: reads every accepted byte (ASan checks it lies in the receive buffer). */
        memcpy(hil_link_response_body(), packet.body, packet.length);
        if (hil_link_send_response((uint8_t)(packet.type | 0x80u), packet.seq, packet.length) != HIL_OK ||
            hil_link_resend_response() != HIL_OK) {
            abort();
        }
    }
}
