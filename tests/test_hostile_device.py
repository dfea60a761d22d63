"""Devices that break the protocol on purpose: the host bounds what it accepts and refuses nonsense.

The device here is a fake (ScriptedDevice, tests only): a pyserial-like port whose "firmware" is a
Python function from request to answer, so each test can announce a tiny max_body, stream bytes
without end, or describe tensors that cannot exist."""

from __future__ import annotations

import hashlib
import struct
import time
import tracemalloc
from dataclasses import dataclass, field

import fault_tally
import pytest

from harness.device.link.framing import FrameError, FrameReader, Packet, decode_frame, encode_frame, max_frame_length
from harness.device.link.protocol import PROTOCOL_VERSION, LinkClient, LinkError, LinkTimeout, MessageType


@dataclass
class Tensor:
    dtype: int = 1  # int8
    shape: tuple[int, ...] = (1, 8, 6, 1)
    size: int = 48


@dataclass
class Info:
    max_body: int = 1028
    unit: int = 2
    arena: int = 4096
    layers: int = 3
    input: Tensor = field(default_factory=Tensor)
    output: Tensor = field(default_factory=lambda: Tensor(2, (1, 3), 12))

    def body(self) -> bytes:
        """An INFO body laid out as docs/protocol.md says."""
        head = struct.pack("<HHBIBIHB", PROTOCOL_VERSION, self.max_body, self.unit, 0, 1, self.arena, self.layers, 0)
        tensors = b"".join(
            struct.pack("<BB6iIfi", t.dtype, len(t.shape), *t.shape, *[0] * (6 - len(t.shape)), t.size, 0.0, 0)
            for t in (self.input, self.output)
        )
        target, build = b"fake", b"a build id"
        return head + tensors + hashlib.sha256(b"model").digest() + bytes([len(target)]) + target + \
            struct.pack("<H", len(build)) + build


class ScriptedDevice:
    """Fake device (tests only): answers each request frame with answer(packet) -> (type, body) or None."""

    def __init__(self, answer):
        self.timeout = 1.0
        self.port = "scripted-device"
        self._answer = answer
        self._out = bytearray()

    def write(self, data: bytes) -> int:
        for part in bytes(data).split(b"\0"):
            if part:
                request = decode_frame(part)
                reply = self._answer(request)
                if reply is not None:
                    self._out += encode_frame(Packet(reply[0], request.seq, reply[1]))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        chunk = bytes(self._out[:size])
        del self._out[:size]
        return chunk


def answering(info: Info, more: dict | None = None):
    """HELLO -> INFO of `info`; the types in `more` by their functions; anything else WRITTEN 48."""
    def answer(packet: Packet):
        if packet.type == MessageType.HELLO:
            return MessageType.INFO, info.body()
        if more and packet.type in more:
            return more[packet.type](packet)
        return MessageType.WRITTEN, struct.pack("<I", 48)

    return answer


@pytest.mark.parametrize("max_body", [0, 4, 100])
def test_a_max_body_too_small_for_the_protocol_is_refused_in_the_handshake(max_body):
    """4 gave a ValueError in write_input, 0 made it send nothing and report success."""
    client = LinkClient(ScriptedDevice(answering(Info(max_body=max_body))), timeout=0.2)
    with pytest.raises(LinkError, match=f"the device announces max_body {max_body}, less than its own"):
        client.write_input(bytes(48))
    fault_tally.record("hostile device: tiny max_body", 1)


NONSENSE = {
    "unknown dtype": (Info(input=Tensor(dtype=9)), "dtype code 9"),
    "a zero dimension": (Info(input=Tensor(shape=(1, 0, 6, 1), size=0)), "every dimension must be at least 1"),
    "bytes that are not the shape's": (Info(output=Tensor(2, (1, 3), 4_000_000_000)), "as 4000000000 bytes"),
    "unknown counter unit": (Info(unit=9), "counter unit 9"),
    "more layers than a TIMED answer holds": (Info(layers=300), "one TIMED answer needs 1208 bytes"),
}


@pytest.mark.parametrize("case", NONSENSE)
def test_nonsense_in_the_handshake_is_refused_with_what_is_wrong(case):
    info, message = NONSENSE[case]
    client = LinkClient(ScriptedDevice(answering(info)), timeout=0.2)
    with pytest.raises(LinkError, match=message):
        client.hello()
    fault_tally.record("hostile device: nonsense in INFO", 1)


class EndlessStream:
    """Fake device (tests only): every read returns a full buffer of non-zero bytes, for ever."""

    def __init__(self):
        self.timeout = 1.0
        self.port = "endless-stream"
        self.delivered = 0

    def write(self, data: bytes) -> int:
        return len(data)

    def read(self, size: int = 1) -> bytes:
        self.delivered += size
        return b"\x55" * size


def test_a_device_streaming_without_end_costs_bounded_memory_and_time():
    """The host once buffered 77 MB in 3 s of such a stream, waiting for a delimiter."""
    device = EndlessStream()
    client = LinkClient(device, timeout=1.0)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(LinkTimeout, match="without a frame delimiter"):
            client.hello()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes held for a stream of {device.delivered}"
    assert time.monotonic() - started < 3.5 and client.stats.bad_frames >= 1
    fault_tally.record("hostile device: endless byte stream", 1)


def test_the_frame_reader_holds_at_most_one_frame():
    reader = FrameReader(max_frame_length(1028))
    errors = 0
    for _ in range(200):  # 13 MB, no delimiter
        reader.feed(b"\x55" * 65536)
        try:
            reader.next_frame()
        except FrameError:
            errors += 1
        assert len(reader.pending) <= 65536 + max_frame_length(1028)
    frame = encode_frame(Packet(1, 2, b"after the noise"))
    reader.feed(frame)
    frames = []
    while (found := reader.next_frame()) is not None:
        frames.append(found)
    assert errors == 200 and decode_frame(frames[-1]) == Packet(1, 2, b"after the noise")


def test_a_layer_that_claims_another_size_than_the_model_is_refused():
    def endless_layer(packet: Packet):  # says 3 GB, hands out 1024 bytes per request for ever
        return MessageType.LAYER_DATA, struct.pack("<I", 3_000_000_000) + bytes(1024)

    info = Info(arena=4096)
    client = LinkClient(ScriptedDevice(answering(info, {MessageType.READ_LAYER: endless_layer})), timeout=0.2)
    with pytest.raises(LinkError, match="its output is 3000000000 bytes, the model's is 2048"):
        client.read_layer(0, 2048)
    fault_tally.record("hostile device: endless layer data", 1)
