"""Properties of the link's framing: COBS, CRC-32, packets, and damage detection."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.device.link.framing import (
    DELIMITER,
    FrameError,
    FrameReader,
    Packet,
    cobs_decode,
    cobs_encode,
    crc32,
    decode_frame,
    encode_frame,
    pack,
    unpack,
)

packets = st.builds(Packet, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=1100))


@given(st.binary(max_size=2000))
def test_cobs_round_trip_without_zeros(data):
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(encoded) == data


@given(st.integers(0, 3), st.integers(0, 3))
def test_cobs_block_boundaries(zeros_before, zeros_after):
    """Runs of 253-255 non-zero bytes cross the 254-byte block limit, with zeros around them."""
    for run in (253, 254, 255, 508, 509):
        data = b"\0" * zeros_before + b"\x07" * run + b"\0" * zeros_after
        assert cobs_decode(cobs_encode(data)) == data


def test_cobs_known_vectors():
    assert cobs_encode(b"") == b"\x01"
    assert cobs_encode(b"\x00") == b"\x01\x01"
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert cobs_encode(bytes(range(1, 255))) == b"\xff" + bytes(range(1, 255)) + b"\x01"


@given(st.binary(max_size=2000))
def test_crc_is_zlib(data):
    assert crc32(data) == zlib.crc32(data)


def test_crc_check_value():
    assert crc32(b"123456789") == 0xCBF43926


@given(packets)
def test_packet_round_trip(packet):
    assert unpack(pack(packet)) == packet
    frame = encode_frame(packet)
    assert frame[:1] == DELIMITER and frame[-1:] == DELIMITER and 0 not in frame[1:-1]
    assert decode_frame(frame[1:-1]) == packet


def test_packet_layout_is_little_endian():
    packed = pack(Packet(0x02, 7, b"\x01\x02\x03"))
    assert packed[:4] == b"\x02\x07\x03\x00"
    assert packed[4:7] == b"\x01\x02\x03"
    assert packed[7:] == zlib.crc32(packed[:7]).to_bytes(4, "little")


def test_unpack_rejects_lengths():
    good = pack(Packet(1, 2, b"abc"))
    with pytest.raises(FrameError, match="shorter"):
        unpack(good[:7])
    with pytest.raises(FrameError, match="length field"):
        unpack(good + b"x")
    with pytest.raises(FrameError, match="max_body"):
        unpack(good, max_body=2)


@settings(max_examples=40, deadline=None)
@given(st.builds(Packet, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=300)))
@example(Packet(0x02, 0, bytes(range(256)) + bytes(10) + b"\x55" * 300))  # several COBS blocks
def test_every_single_byte_corruption_is_detected(packet):
    """Any one byte of the encoded frame replaced by any other value: no good packet comes out.

    A byte turned into 0x00 splits the frame in two; both halves must be rejected.
    """
    encoded = encode_frame(packet)[1:-1]
    for position in range(len(encoded)):
        for value in range(256):
            if value == encoded[position]:
                continue
            damaged = encoded[:position] + bytes([value]) + encoded[position + 1 :]
            for part in damaged.split(b"\0"):
                if part:
                    with pytest.raises(FrameError):
                        decode_frame(part)


@given(st.lists(packets, max_size=5), st.lists(st.integers(1, 50), max_size=20))
def test_reader_splits_a_stream_into_frames(sent, cuts):
    """Frames arrive in arbitrary pieces; the reader returns each once, skipping empty frames."""
    stream = b"".join(encode_frame(p) for p in sent)
    reader, received, position = FrameReader(), [], 0
    for size in cuts + [len(stream)]:
        reader.feed(stream[position : position + size])
        position += size
        while (frame := reader.next_frame()) is not None:
            received.append(decode_frame(frame))
    assert received == sent
    assert reader.pending == b""
