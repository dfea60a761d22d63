/*
 * The device side of the link's framing (docs/protocol.md, "Frames"):
 *
 *     wire:    0x00 COBS(packet) 0x00
 *     packet:  type:u8 seq:u8 length:u16 body[length] crc:u32      (little-endian)
 *
 * Every buffer is static and sized from HIL_LINK_MAX_BODY; nothing is allocated. The receive
 * buffer holds one maximal encoded frame and is decoded in place. The last response stays in
 * the transmit buffer until the next one is sent, so a retransmitted request can be answered
 * again without executing it twice (hil_link_resend_response).
 */
#ifndef HIL_LINK_H
#define HIL_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "hil_types.h"

/* The largest body the device accepts or sends. 1028 = a 1024-byte WRITE_INPUT chunk after its
 * 4-byte offset, so a 6144-byte patch goes in 6 frames. Announced to the host in INFO. */
#define HIL_LINK_MAX_BODY 1028u

#define HIL_LINK_HEADER_BYTES 4u /* type, seq, length */
#define HIL_LINK_CRC_BYTES 4u
#define HIL_LINK_MAX_PACKET (HIL_LINK_HEADER_BYTES + HIL_LINK_MAX_BODY + HIL_LINK_CRC_BYTES)
/* COBS adds one code byte per started block of 254 bytes. */
#define HIL_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)
#define HIL_LINK_MAX_ENCODED HIL_COBS_MAX_ENCODED(HIL_LINK_MAX_PACKET)

/* Every RAM buffer of the harness (link, staging) goes here, so footprint reports can tell the
 * harness's RAM from the model's arena (.bss.hil_arena). */
#define HIL_HARNESS_BSS __attribute__((section(".bss.hil_harness"), aligned(4)))

/* The message types of docs/protocol.md. */
enum {
    HIL_MSG_HELLO = 0x01,
    HIL_MSG_WRITE_INPUT = 0x02,
    HIL_MSG_INFER = 0x03,
    HIL_MSG_TIME = 0x04,
    HIL_MSG_READ_LAYER = 0x05,
    HIL_MSG_READ_OUTPUT = 0x06,
    HIL_MSG_MEASURE_STACK = 0x07,
    HIL_MSG_INFO = 0x81,
    HIL_MSG_WRITTEN = 0x82,
    HIL_MSG_INFERRED = 0x83,
    HIL_MSG_TIMED = 0x84,
    HIL_MSG_LAYER_DATA = 0x85,
    HIL_MSG_OUTPUT_DATA = 0x86,
    HIL_MSG_STACK = 0x87,
    HIL_MSG_FAULT = 0x88, /* unsolicited, seq 0: sent by hil_app_fault (hil_fault.h) */
    HIL_MSG_ERROR = 0x7F,
    HIL_MSG_NAK = 0xFF
};

typedef struct {
    uint8_t type;
    uint8_t seq;
    uint16_t length;
    const uint8_t *body; /* points into the receive buffer: valid until the next receive */
    uint32_t crc;        /* as received (and checked): identifies a retransmission */
} hil_packet;

typedef enum {
    HIL_LINK_OK = 0,
    HIL_LINK_BAD_FRAME = 1, /* damaged, too long, or inconsistent: answer with a NAK */
    HIL_LINK_CLOSED = 2     /* the board reports the link gone (host build: the peer closed) */
} hil_link_result;

/*
 * COBS-encodes `length` bytes into `out`, which must hold HIL_COBS_MAX_ENCODED(length) bytes.
 * Returns the encoded length. The output contains no 0x00.
 */
size_t hil_cobs_encode(const uint8_t *in, size_t length, uint8_t *out);

/*
 * Decodes COBS data (without the 0x00 delimiter). `out` may be `in` (decoding in place); it
 * needs `length` bytes. Returns HIL_ERROR_ARGUMENT for data that is not valid COBS.
 */
hil_status hil_cobs_decode(const uint8_t *in, size_t length, uint8_t *out, size_t *decoded_length);

/* CRC-32 (IEEE 802.3, reflected, zlib's crc32): start with crc = 0, chain by passing the last value. */
uint32_t hil_crc32(uint32_t crc, const uint8_t *data, size_t length);

/* Little-endian helpers for message bodies. */
void hil_put_u16(uint8_t *out, uint16_t value);
void hil_put_u32(uint8_t *out, uint32_t value);
uint16_t hil_get_u16(const uint8_t *in);
uint32_t hil_get_u32(const uint8_t *in);

/* Blocks until one non-empty frame ends (empty frames, i.e. repeated 0x00, are skipped). */
hil_link_result hil_link_receive(hil_packet *packet);

/* Where the next response's body is built: HIL_LINK_MAX_BODY bytes. */
uint8_t *hil_link_response_body(void);

/* Frames the body built in hil_link_response_body(), keeps the frame for a resend, and sends it. */
hil_status hil_link_send_response(uint8_t type, uint8_t seq, uint16_t length);

/* Sends the last response again, byte for byte. */
hil_status hil_link_resend_response(void);

/* Sends a NAK (seq 0, empty body) without touching the kept response. */
hil_status hil_link_send_nak(void);

#endif /* HIL_LINK_H */
