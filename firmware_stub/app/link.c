/* Framing of the host <-> device link: COBS, CRC-32, frame receive and send (see link.h). */
#include "link.h"

#include <string.h>

#include "hil_board.h"
#include "hil_fault.h"

static uint8_t rx_frame[HIL_LINK_MAX_ENCODED] HIL_HARNESS_BSS;       /* encoded, decoded in place */
static uint8_t tx_packet[HIL_LINK_MAX_PACKET] HIL_HARNESS_BSS;       /* the response being built */
static uint8_t tx_frame[HIL_LINK_MAX_ENCODED + 2u] HIL_HARNESS_BSS;  /* 0x00 COBS(packet) 0x00, kept */
static size_t tx_frame_length HIL_HARNESS_BSS;

size_t hil_cobs_encode(const uint8_t *in, size_t length, uint8_t *out)
{
    size_t code_at = 0; /* where the current block's code byte goes */
    size_t written = 1;
    uint8_t code = 1;   /* 1 + the number of non-zero bytes in the current block */
    for (size_t i = 0; i < length; ++i) {
        if (in[i] == 0u) {
            out[code_at] = code;
            code_at = written++;
            code = 1;
        } else {
            out[written++] = in[i];
            if (++code == 0xFFu) { /* a full block of 254 bytes: no zero follows it */
                out[code_at] = code;
                code_at = written++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    return written;
}

hil_status hil_cobs_decode(const uint8_t *in, size_t length, uint8_t *out, size_t *decoded_length)
{
    size_t read = 0;
    size_t written = 0; /* always behind `read`, so decoding in place is safe */
    while (read < length) {
        const uint8_t code = in[read++];
        if (code == 0u || (size_t)(code - 1u) > length - read) {
            return HIL_ERROR_ARGUMENT;
        }
        for (uint8_t k = 1; k < code; ++k) {
            const uint8_t byte = in[read++];
            if (byte == 0u) {
                return HIL_ERROR_ARGUMENT;
            }
            out[written++] = byte;
        }
        if (code != 0xFFu && read < length) {
            out[written++] = 0u;
        }
    }
    *decoded_length = written;
    return HIL_OK;
}

/*
 * CRC-32 four bits at a time with a 16-entry table (64 bytes of flash). Measured on QEMU
 * mps2-an505 (Cortex-M33, GCC 12 -O2) over 1 KB: bitwise 45 instructions per byte (56 bytes of
 * code), this 10 per byte (124 bytes with its table), a 256-entry table 7 per byte (1068 bytes).
 * A maximal frame costs ~10k instructions here, against ~11 ms to move it at 921600 baud.
 */
static const uint32_t crc32_nibble_table[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t hil_crc32(uint32_t crc, const uint8_t *data, size_t length)
{
    crc = ~crc;
    for (size_t i = 0; i < length; ++i) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc32_nibble_table[crc & 0x0Fu];
        crc = (crc >> 4) ^ crc32_nibble_table[crc & 0x0Fu];
    }
    return ~crc;
}

void hil_put_u16(uint8_t *out, uint16_t value)
{
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
}

void hil_put_u32(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)(value >> 16);
    out[3] = (uint8_t)(value >> 24);
}

uint16_t hil_get_u16(const uint8_t *in)
{
    return (uint16_t)(in[0] | (in[1] << 8));
}

uint32_t hil_get_u32(const uint8_t *in)
{
    return (uint32_t)in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16) | ((uint32_t)in[3] << 24);
}

/* Reads bytes up to the next 0x00. Returns the frame's length, or more than the buffer holds
 * when it overflowed (the excess is read and dropped, so the next frame starts clean). */
static hil_link_result read_frame(size_t *length)
{
    size_t count = 0;
    for (;;) {
        uint8_t byte;
        const hil_status status = hil_board_uart_read(&byte);
        if (status == HIL_ERROR_CLOSED) {
            return HIL_LINK_CLOSED;
        }
        if (status != HIL_OK) {
            return HIL_LINK_BAD_FRAME; /* the board could not deliver a byte: this frame is lost */
        }
        if (byte == 0u) {
            *length = count;
            return HIL_LINK_OK;
        }
        if (count < sizeof(rx_frame)) {
            rx_frame[count] = byte;
        }
        if (count <= sizeof(rx_frame)) {
            ++count; /* stops at sizeof + 1: "too long" */
        }
    }
}

hil_link_result hil_link_receive(hil_packet *packet)
{
    size_t encoded = 0;
    do {
        const hil_link_result result = read_frame(&encoded);
        if (result != HIL_LINK_OK) {
            return result;
        }
    } while (encoded == 0u); /* an empty frame: a sender's leading delimiter */
    size_t decoded = 0;
    if (encoded > sizeof(rx_frame) || hil_cobs_decode(rx_frame, encoded, rx_frame, &decoded) != HIL_OK ||
        decoded < HIL_LINK_HEADER_BYTES + HIL_LINK_CRC_BYTES) {
        return HIL_LINK_BAD_FRAME;
    }
    const uint16_t length = hil_get_u16(&rx_frame[2]);
    if (length > HIL_LINK_MAX_BODY || decoded != HIL_LINK_HEADER_BYTES + (size_t)length + HIL_LINK_CRC_BYTES) {
        return HIL_LINK_BAD_FRAME;
    }
    const size_t covered = HIL_LINK_HEADER_BYTES + length;
    const uint32_t crc = hil_get_u32(&rx_frame[covered]);
    if (hil_crc32(0u, rx_frame, covered) != crc) {
        return HIL_LINK_BAD_FRAME;
    }
    packet->type = rx_frame[0];
    packet->seq = rx_frame[1];
    packet->length = length;
    packet->body = &rx_frame[HIL_LINK_HEADER_BYTES];
    packet->crc = crc;
    return HIL_LINK_OK;
}

uint8_t *hil_link_response_body(void)
{
    return &tx_packet[HIL_LINK_HEADER_BYTES];
}

/* Frames header + body (already in `packet`) into `frame`; returns the frame's length. */
static size_t frame_packet(uint8_t *packet, uint8_t type, uint8_t seq, uint16_t length, uint8_t *frame)
{
    packet[0] = type;
    packet[1] = seq;
    hil_put_u16(&packet[2], length);
    const size_t covered = HIL_LINK_HEADER_BYTES + length;
    hil_put_u32(&packet[covered], hil_crc32(0u, packet, covered));
    frame[0] = 0u; /* ends whatever partial frame a loss left at the receiver */
    const size_t encoded = hil_cobs_encode(packet, covered + HIL_LINK_CRC_BYTES, &frame[1]);
    frame[1u + encoded] = 0u;
    return encoded + 2u;
}

hil_status hil_link_send_response(uint8_t type, uint8_t seq, uint16_t length)
{
    if (length > HIL_LINK_MAX_BODY) {
        return HIL_ERROR_ARGUMENT;
    }
    tx_frame_length = frame_packet(tx_packet, type, seq, length, tx_frame);
    return hil_board_uart_write(tx_frame, tx_frame_length);
}

hil_status hil_link_resend_response(void)
{
    return hil_board_uart_write(tx_frame, tx_frame_length);
}

hil_status hil_link_send_nak(void)
{
    uint8_t packet[HIL_LINK_HEADER_BYTES + HIL_LINK_CRC_BYTES];
    uint8_t frame[HIL_COBS_MAX_ENCODED(sizeof(packet)) + 2u];
    const size_t length = frame_packet(packet, HIL_MSG_NAK, 0u, 0u, frame);
    return hil_board_uart_write(frame, length);
}

/* The FAULT body: exception:u16, then pc lr xpsr sp exc_return cfsr hfsr sfsr mmfar bfar sfar (u32). */
#define FAULT_WORDS 11u
#define FAULT_BODY_BYTES (2u + 4u * FAULT_WORDS)

/* Called from the board's fault handler with interrupts masked: the frame is built on the stack
 * (the transmit buffers may be half written) and sent by polling. */
void hil_app_fault(const hil_fault *fault)
{
    uint8_t packet[HIL_LINK_HEADER_BYTES + FAULT_BODY_BYTES + HIL_LINK_CRC_BYTES];
    uint8_t frame[HIL_COBS_MAX_ENCODED(sizeof(packet)) + 2u];
    const uint32_t words[FAULT_WORDS] = {
        fault->pc,   fault->lr,   fault->xpsr,  fault->sp,   fault->exc_return, fault->cfsr,
        fault->hfsr, fault->sfsr, fault->mmfar, fault->bfar, fault->sfar,
    };
    uint8_t *const body = &packet[HIL_LINK_HEADER_BYTES];
    hil_put_u16(body, (uint16_t)fault->exception);
    for (size_t i = 0; i < FAULT_WORDS; ++i) {
        hil_put_u32(&body[2u + 4u * i], words[i]);
    }
    const size_t length = frame_packet(packet, HIL_MSG_FAULT, 0u, (uint16_t)FAULT_BODY_BYTES, frame);
    (void)hil_board_uart_write_polled(frame, length); /* nothing is left to do if it fails */
}
