"""Load an image into QEMU's mps2-an505 the way a board is flashed: through pyOCD and a probe.

QEMU starts halted with no image, a gdbstub on one loopback port and UART0 on another; pyOCD,
through the QEMU probe (harness.device.pyocd.probe), programs the ELF, verifies it and resets
the core, with the same program_image a board gets. So CI exercises the board's flash path
without a board:

    with QemuPyocdLoader() as loader:
        url = loader.start(Path("firmware.elf"))   # socket://127.0.0.1:PORT, the firmware running
        link = serial.serial_for_url(url, timeout=5)

The order matters. UART0's chardev waits for a connection (`server=on,wait=on`) before QEMU
goes on, and QEMU serves its gdbstub only after that. So start() (1) launches QEMU, (2) holds
UART0 with a connection of its own, (3) programs through the gdbstub and closes the pyOCD
session, which leaves the firmware running, (4) lets UART0 go: QEMU listens on it again and
the link connects as to a board's serial port. The firmware speaks only when spoken to, so
nothing it says is lost while no one holds the link.
"""

from __future__ import annotations

import socket
from pathlib import Path

from pyocd.core import exceptions
from pyocd.core.session import Session

from harness.device.loaders.base import Loader, LoadError
from harness.device.loaders.qemu import LOOPBACK, QemuLoader
from harness.device.pyocd.mps2_an505 import register_target
from harness.device.pyocd.probe import QemuGdbProbe
from harness.device.pyocd.program import program_image


class QemuPyocdLoader(Loader):
    """One QEMU per start(), programmed by pyOCD; stop() ends it."""

    def __init__(self) -> None:
        self.qemu = QemuLoader(gdb=True)

    def start(self, image: Path) -> str:
        image = Path(image)
        url = self.qemu.start(image)
        try:
            with self._hold_uart():
                self._program(image)
        except BaseException:
            self.stop()
            raise
        return url

    def _hold_uart(self) -> socket.socket:
        try:
            return socket.create_connection((LOOPBACK, self.qemu.port), timeout=self.qemu.start_timeout)
        except OSError as error:
            raise LoadError(f"cannot connect to QEMU's UART0 on {LOOPBACK}:{self.qemu.port}: {error}") from None

    def _program(self, image: Path) -> None:
        probe = QemuGdbProbe(LOOPBACK, self.qemu.gdb_port)
        options = {
            "target_override": register_target(),
            "hide_programming_progress": True,  # a bar for a twentieth of a second is noise
            "reset.post_delay": 0.0,  # QEMU has reset before it takes the next request: nothing to settle
        }
        try:
            with Session(probe, options=options) as session:
                program_image(session, image)
        except exceptions.Error as error:
            raise LoadError(f"pyOCD could not program {image.name} into QEMU through {probe.unique_id}: {error}") \
                from None

    def stop(self) -> None:
        self.qemu.stop()

    def output(self) -> str:
        return self.qemu.output()
