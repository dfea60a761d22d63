"""Framing of the host <-> device link (docs/protocol.md, "Frames").

    wire:    0x00 COBS(packet) 0x00
    packet:  type:u8 seq:u8 length:u16 body[length] crc:u32      (little-endian)

Pure functions and one incremental reader; nothing here does I/O.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

HEADER = struct.Struct("<BBH")
CRC = struct.Struct("<I")
OVERHEAD = HEADER.size + CRC.size
DELIMITER = b"\x00"
MAX_BODY_FIELD = 0xFFFF  # what the u16 length field can say


class FrameError(ValueError):
    """A frame that cannot be a packet: not valid COBS, wrong length, or a CRC mismatch."""


def cobs_encode(data: bytes) -> bytes:
    """COBS: the result has no 0x00 and is at most len(data) + len(data) // 254 + 1 bytes.

    Each run of non-zero bytes becomes blocks of at most 254 bytes led by a code byte (1 + the
    block's length); a block shorter than 254 stands for its bytes and the zero after them.
    """
    out = bytearray()
    for run in bytes(data).split(b"\0"):
        while len(run) >= 254:  # a full block: no zero follows it
            out.append(0xFF)
            out += run[:254]
            run = run[254:]
        out.append(len(run) + 1)
        out += run
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of cobs_encode; FrameError for data no encoder produces."""
    out = bytearray()
    position, length = 0, len(data)
    while position < length:
        code = data[position]
        position += 1
        if code == 0:
            raise FrameError(f"COBS: a 0x00 at byte {position - 1} inside the frame")
        end = position + code - 1
        if end > length:
            raise FrameError(
                f"COBS: block at byte {position - 1} claims {code - 1} bytes, only {length - position} left"
            )
        block = data[position:end]
        if 0 in block:
            raise FrameError(f"COBS: a 0x00 inside the block at byte {position - 1}")
        out += block
        position = end
        if code != 0xFF and position < length:
            out.append(0)
    return bytes(out)


def crc32(data: bytes) -> int:
    """CRC-32 as zlib computes it (IEEE 802.3, reflected, init and final XOR 0xFFFFFFFF)."""
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class Packet:
    type: int
    seq: int
    body: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF or not 0 <= self.seq <= 0xFF:
            raise ValueError(f"type {self.type} and seq {self.seq} must be bytes")
        if len(self.body) > MAX_BODY_FIELD:
            raise ValueError(f"a body of {len(self.body)} bytes does not fit the u16 length field")


def pack(packet: Packet) -> bytes:
    """Header, body and CRC: the bytes COBS encodes."""
    covered = HEADER.pack(packet.type, packet.seq, len(packet.body)) + packet.body
    return covered + CRC.pack(crc32(covered))


def unpack(data: bytes, max_body: int = MAX_BODY_FIELD) -> Packet:
    """The packet in `data` (COBS already removed); FrameError when its length or CRC is wrong."""
    if len(data) < OVERHEAD:
        raise FrameError(f"{len(data)} bytes is shorter than a packet's {OVERHEAD}-byte header and CRC")
    kind, seq, length = HEADER.unpack_from(data)
    if length > max_body:
        raise FrameError(f"length field {length} is over max_body {max_body}")
    if len(data) != OVERHEAD + length:
        raise FrameError(f"length field says {length} body bytes, the frame holds {len(data) - OVERHEAD}")
    (sent,) = CRC.unpack_from(data, HEADER.size + length)
    computed = crc32(data[: HEADER.size + length])
    if sent != computed:
        raise FrameError(f"CRC mismatch: frame says {sent:08x}, contents give {computed:08x}")
    return Packet(kind, seq, bytes(data[HEADER.size : HEADER.size + length]))


def max_frame_length(max_body: int) -> int:
    """The longest frame (COBS-encoded packet, without delimiters) a body of `max_body` bytes can make."""
    packet = OVERHEAD + max_body
    return packet + packet // 254 + 1


def encode_frame(packet: Packet) -> bytes:
    """What goes on the wire, with a leading 0x00 that ends any partial frame at the receiver."""
    return DELIMITER + cobs_encode(pack(packet)) + DELIMITER


def decode_frame(frame: bytes, max_body: int = MAX_BODY_FIELD) -> Packet:
    """A frame's bytes between two delimiters -> its packet, or FrameError."""
    return unpack(cobs_decode(frame), max_body)


class FrameReader:
    """Splits a byte stream into frames: feed() what arrives, next_frame() what is complete.

    It holds at most one frame of `max_frame` bytes (plus what one feed() brings): a device that
    streams bytes without a delimiter costs a FrameError, not the host's memory."""

    def __init__(self, max_frame: int = max_frame_length(MAX_BODY_FIELD)) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete non-empty frame (without delimiter), or None until more arrives.

        FrameError when a frame is longer than max_frame; its bytes so far are dropped."""
        while True:
            end = self._buffer.find(0)
            if end < 0:
                if len(self._buffer) > self.max_frame:
                    held = len(self._buffer)
                    self._buffer.clear()
                    raise FrameError(f"{held} bytes without a frame delimiter, more than a frame's {self.max_frame}")
                return None
            if end > self.max_frame:
                del self._buffer[: end + 1]
                raise FrameError(f"a frame of {end} bytes, more than the {self.max_frame} max_body allows")
            frame = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if frame:  # empty frames are leading delimiters
                return frame

    @property
    def pending(self) -> bytes:
        """Bytes of a frame that has not ended yet."""
        return bytes(self._buffer)

    def clear(self) -> None:
        self._buffer.clear()
