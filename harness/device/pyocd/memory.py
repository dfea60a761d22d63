"""pyOCD's accelerated memory interface for the MEM-AP of the QEMU probe.

pyOCD reaches all target memory through it, as it does through an ST-LINK's: words of the debug
registers and CoreSight IDs that QEMU lacks go to CortexMDebug, everything else to the gdbstub.
A memory fault the stub reports (an unmapped address) becomes pyOCD's TransferFaultError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pyocd.core import exceptions
from pyocd.core.memory_interface import MemoryInterface

from harness.device.pyocd.cortex_m_debug import CortexMDebug
from harness.device.pyocd.gdbremote import GdbStubReplyError


@contextmanager
def _faults(address: int, length: int) -> Iterator[None]:
    try:
        yield
    except GdbStubReplyError as error:
        raise exceptions.TransferFaultError(str(error), fault_address=address, length=length) from None


class GdbMemoryInterface(MemoryInterface):
    """Memory as the core's bus sees it, with the debug registers served by `debug`."""

    def __init__(self, debug: CortexMDebug) -> None:
        self._debug = debug

    # pyOCD passes the AP's CSW as an attribute; QEMU accesses memory as the CPU's current
    # security state does (Secure for our firmware), so it is not used.

    def write_memory(self, addr: int, data: int, transfer_size: int = 32, **attrs: Any) -> None:
        self._write(addr, data.to_bytes(transfer_size // 8, "little"))

    def read_memory(self, addr: int, transfer_size: int = 32, now: bool = True,
                    **attrs: Any) -> int | Callable[[], int]:
        value = int.from_bytes(self._read(addr, transfer_size // 8), "little")
        return value if now else (lambda: value)

    def write_memory_block32(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        self._write(addr, b"".join(word.to_bytes(4, "little") for word in data))

    def read_memory_block32(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        data = self._read(addr, 4 * size)
        return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]

    def write_memory_block8(self, addr: int, data: Sequence[int], **attrs: Any) -> None:
        self._write(addr, bytes(data))

    def read_memory_block8(self, addr: int, size: int, **attrs: Any) -> Sequence[int]:
        return list(self._read(addr, size))

    # --- routing ------------------------------------------------------------------------------

    def _read(self, address: int, length: int) -> bytes:
        if not self._debug.overlaps(address, length):
            with _faults(address, length):
                return self._debug.read_memory(address, length)
        data = bytearray()
        for at, count, served in self._pieces(address, length):
            if served:
                word = self._debug.read(at).to_bytes(4, "little")
                data += word[at & 3:(at & 3) + count]
            else:
                with _faults(at, count):
                    data += self._debug.read_memory(at, count)
        return bytes(data)

    def _write(self, address: int, data: bytes) -> None:
        if not self._debug.overlaps(address, len(data)):
            with _faults(address, len(data)):
                self._debug.write_memory(address, data)
            return
        offset = 0
        for at, count, served in self._pieces(address, len(data)):
            if served and (at & 3 or count != 4):
                raise exceptions.TransferFaultError("the QEMU probe serves debug registers as whole words only",
                                                    fault_address=at, length=count)
            if served:
                self._debug.write(at, int.from_bytes(data[offset:offset + 4], "little"))
            else:
                with _faults(at, count):
                    self._debug.write_memory(at, data[offset:offset + count])
            offset += count

    def _pieces(self, address: int, length: int) -> Iterator[tuple[int, int, bool]]:
        """(address, length, served) for each served word and each run of plain memory between them."""
        end = address + length
        at = address
        while at < end:
            served = self._debug.serves(at)
            stop = min((at & ~3) + 4, end)
            while stop < end and not served and not self._debug.serves(stop):
                stop = min(stop + 4, end)
            yield at, stop - at, served
            at = stop
