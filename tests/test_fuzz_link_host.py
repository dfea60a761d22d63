"""The host's frame decoders fuzzed with hypothesis: any bytes a device may send end in a packet or in
the link's own errors (FrameError, LinkError), never in another exception, a hang or unbounded memory."""

from __future__ import annotations

import fault_tally
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.device.link.framing import (
    FrameError,
    FrameReader,
    Packet,
    cobs_decode,
    cobs_encode,
    decode_frame,
    encode_frame,
    max_frame_length,
    pack,
)
from harness.device.link.protocol import LinkClient, LinkError, parse_info

EXAMPLES = 400
RUNS = {"examples": 0}


@pytest.fixture(scope="module", autouse=True)
def tally():
    """Counts the examples each test below really ran, for the fault campaign's table."""
    yield
    fault_tally.record("fuzz: host frame decoders (hypothesis)", RUNS["examples"])


def ran():
    RUNS["examples"] += 1


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=2000))
def test_decode_frame_takes_any_bytes(data):
    ran()
    try:
        packet = decode_frame(data, max_body=1028)
    except FrameError:
        return
    assert len(packet.body) <= 1028 and encode_frame(packet)[1:-1] == data  # only a canonical frame decodes


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=1100))
def test_cobs_decode_takes_any_bytes(data):
    ran()
    try:
        decoded = cobs_decode(data)
    except FrameError:
        return
    assert len(decoded) <= len(data)


@st.composite
def damaged_packets(draw):
    """A packet with a right CRC and COBS, its length field or body then changed: past the cheap checks."""
    packet = Packet(draw(st.integers(0, 255)), draw(st.integers(0, 255)), draw(st.binary(max_size=1100)))
    raw = bytearray(pack(packet))
    for _ in range(draw(st.integers(0, 3))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return bytes(raw)


@settings(max_examples=EXAMPLES)
@given(damaged_packets())
def test_unpack_behind_the_cobs_layer_takes_any_packet(raw):
    ran()
    try:
        packet = decode_frame(cobs_encode(raw), max_body=1028)
    except FrameError:
        return
    assert pack(packet) == raw and len(packet.body) <= 1028


@settings(max_examples=EXAMPLES)
@given(st.lists(st.binary(max_size=3000), max_size=12))
def test_the_reader_stays_bounded_on_any_stream(chunks):
    ran()
    limit = max_frame_length(100)
    reader = FrameReader(limit)
    for chunk in chunks:
        reader.feed(chunk)
        while True:
            try:
                frame = reader.next_frame()
            except FrameError:
                continue
            if frame is None:
                break
            assert 0 < len(frame) <= limit and 0 not in frame
        assert len(reader.pending) <= limit + len(chunk)


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=600))
def test_parse_info_takes_any_body(body):
    ran()
    try:
        info = parse_info(b"\x04\x00" + body)  # past the version check, into the fields
    except LinkError:
        return
    assert info.max_body >= len(body) + 2 and info.input.bytes > 0 and info.output.bytes > 0


class Replay:
    """Fake device (tests only): whatever is asked, it sends `data` once, then stays silent."""

    def __init__(self, data: bytes):
        self.timeout = 0.0
        self.port = "replay"
        self._data = bytearray(data)

    def write(self, data: bytes) -> int:
        return len(data)

    def read(self, size: int = 1) -> bytes:
        chunk = bytes(self._data[:size])
        del self._data[:size]
        return chunk


frames = st.builds(
    lambda kind, seq, body: encode_frame(Packet(kind, seq, body)),
    st.sampled_from([0x81, 0x7F, 0x88, 0xFF, 0x86]), st.integers(0, 2), st.binary(max_size=80),
)


@settings(max_examples=100)
@given(st.lists(st.one_of(st.binary(max_size=200), frames), max_size=6))
def test_a_client_facing_any_answers_ends_in_a_link_error_or_an_info(pieces):
    ran()
    client = LinkClient(Replay(b"".join(pieces)), timeout=0.005, retries=2)
    try:
        client.hello()
    except LinkError:
        return
    assert client.info is not None
