"""A fault injector for link tests: a pyserial-like port that loses and damages bytes."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class FaultCounts:
    dropped: int = 0
    corrupted: int = 0


class LossyTransport:
    """Test fault injector (tests only): wraps a pyserial port and, driven by a seeded RNG,
    drops and corrupts bytes in both directions at the given per-byte rates.

    A corrupted byte is XORed with a random non-zero value, so it always changes (and may
    become, or stop being, a 0x00 frame delimiter). Each direction has its own RNG, so the
    faults depend on the bytes sent, not on how reads happen to be split.
    """

    def __init__(self, port, *, drop_rate: float = 0.01, corrupt_rate: float = 0.01, seed: int = 0):
        if not (0 <= drop_rate < 1 and 0 <= corrupt_rate < 1):
            raise ValueError(f"rates must be in [0, 1): drop {drop_rate}, corrupt {corrupt_rate}")
        self._port = port
        self.drop_rate = drop_rate
        self.corrupt_rate = corrupt_rate
        self._rng = {"tx": random.Random(f"{seed}-tx"), "rx": random.Random(f"{seed}-rx")}
        self.sent = FaultCounts()  # host -> device
        self.received = FaultCounts()  # device -> host
        self.port = f"{getattr(port, 'port', port)} (through LossyTransport)"

    def _damage(self, data: bytes, direction: str, counts: FaultCounts) -> bytes:
        rng = self._rng[direction]
        out = bytearray()
        for byte in data:
            draw = rng.random()
            if draw < self.drop_rate:
                counts.dropped += 1
            elif draw < self.drop_rate + self.corrupt_rate:
                counts.corrupted += 1
                out.append(byte ^ rng.randrange(1, 256))
            else:
                out.append(byte)
        return bytes(out)

    def write(self, data: bytes) -> int:
        self._port.write(self._damage(bytes(data), "tx", self.sent))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        return self._damage(self._port.read(size), "rx", self.received)

    @property
    def timeout(self):
        return self._port.timeout

    @timeout.setter
    def timeout(self, value) -> None:
        self._port.timeout = value

    def reset_input_buffer(self) -> None:
        self._port.reset_input_buffer()

    def close(self) -> None:
        self._port.close()
