"""The emulated board as a pyOCD target type: QEMU's mps2-an505 as our firmware uses it.

The memory map is the linker script's (firmware_stub/bsp/mps2-an505/mps2-an505.ld), capped to
the STM32U585's sizes like it: code in SSRAM1 at 0x10000000 (2 MB; QEMU boots from there and it
plays the board's flash), data RAM at 0x38000000 (768 KB). Both are RAM in QEMU, so pyOCD writes
an image straight into them; there is no flash algorithm to run.
"""

from __future__ import annotations

from pyocd.core.memory_map import MemoryMap, RamRegion
from pyocd.coresight.coresight_target import CoreSightTarget

TARGET_NAME = "hil_mps2_an505"
CODE_START, CODE_BYTES = 0x10000000, 2048 * 1024
RAM_START, RAM_BYTES = 0x38000000, 768 * 1024


class Mps2An505(CoreSightTarget):
    VENDOR = "Arm"

    MEMORY_MAP = MemoryMap(
        RamRegion(name="code", start=CODE_START, length=CODE_BYTES, access="rwx", is_boot_memory=True),
        RamRegion(name="ram", start=RAM_START, length=RAM_BYTES, access="rwx"),
    )

    def __init__(self, session) -> None:
        super().__init__(session, self.MEMORY_MAP)

    def write_memory_block8(self, addr: int, data) -> None:
        """pyOCD 0.46's RAM loader hands over a bytearray, which its remote probe client (`remote:`,
        JSON on the wire) cannot send; a list of ints goes through every probe."""
        super().write_memory_block8(addr, list(data))


def register_target() -> str:
    """Make the target type known to pyOCD (its table of target types); its name."""
    from pyocd.target import TARGET

    TARGET[TARGET_NAME] = Mps2An505
    return TARGET_NAME
