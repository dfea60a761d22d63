"""Run an ELF on QEMU's mps2-an505 (Cortex-M33 + DSP + FPU), its UART0 on a loopback TCP socket.

The emulator counts instructions deterministically (`-icount shift=0`), exits with the
firmware's semihosting exit code, and serves UART0 as a TCP server that waits for the harness
to connect before the firmware runs, so nothing the firmware prints first is lost:

    loader = QemuLoader()
    url = loader.start(Path("firmware.elf"))       # socket://127.0.0.1:PORT
    link = serial.serial_for_url(url, timeout=5)
    ...
    loader.stop()                                  # or: with QemuLoader() as loader: ...
    loader.exit_code()                             # the firmware's exit code, if it exited itself
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from harness.device.loaders.base import Loader, LoadError
from harness.device.loaders.children import start_child, stop_child

QEMU_BINARY = "qemu-system-arm"
QEMU_PACKAGE = "qemu-system-arm"
LOOPBACK = "127.0.0.1"

# What QEMU prints once the chardev's listening socket is bound and it blocks waiting for the
# first connection (`server=on,wait=on`): from then on a connect() succeeds.
_READY_MARKER = b"waiting for connection on"
_PORT_BUSY_MARKER = b"Address already in use"


def _free_loopback_port() -> int:
    """A port the kernel just considered free; QEMU may still lose it to a race (retried)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class QemuLoader(Loader):
    """One QEMU process per start(); stop() ends it. Not thread-safe; one loader per worker."""

    def __init__(
        self,
        *,
        machine: str = "mps2-an505",
        cpu: str = "cortex-m33",
        qemu: str = QEMU_BINARY,
        start_timeout: float = 10.0,
        stop_grace: float = 2.0,
        port_attempts: int = 5,
        extra_args: tuple[str, ...] = (),
        gdb: bool = False,
    ) -> None:
        self.machine = machine
        self.cpu = cpu
        self.qemu = qemu
        self.start_timeout = start_timeout
        self.stop_grace = stop_grace
        self.port_attempts = port_attempts
        self.extra_args = tuple(extra_args)
        # With gdb, QEMU starts halted without the image and serves a gdbstub on a free loopback
        # port (gdb_port): a debugger puts the image in memory (harness/device/loaders/qemu_pyocd.py).
        self.gdb = gdb
        self.gdb_port: int | None = None
        self.command_line: list[str] = []  # the last command started, for reports
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped_by_loader = False
        self._reader: threading.Thread | None = None
        self._output = bytearray()
        self._output_changed = threading.Condition()

    def command(self, image: Path, port: int) -> list[str]:
        """The QEMU command line that runs `image` with UART0 served on 127.0.0.1:`port` (with gdb:
        that waits halted, without the image, for a debugger on 127.0.0.1:`gdb_port`)."""
        load = ["-kernel", str(image)] if not self.gdb else [
            # Declared before UART0's chardev: QEMU binds it (or reports the port taken) before it
            # blocks waiting for the link; the stub answers once the link is connected.
            "-chardev", f"socket,id=gdb0,host={LOOPBACK},port={self.gdb_port},server=on,wait=off,nodelay=on",
            "-gdb", "chardev:gdb0",
            "-S",
        ]
        return [
            self.qemu,
            "-M", self.machine,
            "-cpu", self.cpu,
            "-nographic",                      # no window; -serial/-monitor below replace its stdio defaults
            "-monitor", "none",
            "-icount", "shift=0",              # 1 instruction = 1 ns of virtual time: exact, repeatable counts
            "-semihosting-config", "enable=on,target=native",  # SYS_EXIT_EXTENDED and fault reports
            *load,
            "-chardev", f"socket,id=u0,host={LOOPBACK},port={port},server=on,wait=on,nodelay=on",
            "-serial", "chardev:u0",
            *self.extra_args,
        ]

    def start(self, image: Path) -> str:
        if self._process is not None and self._process.poll() is None:
            raise LoadError("this QEMU loader is already running an image; call stop() first")
        self.stop()
        if shutil.which(self.qemu) is None:
            raise LoadError(
                f"{self.qemu} is not installed (not found on PATH); install it with: "
                f"sudo apt-get install {QEMU_PACKAGE}"
            )
        image = Path(image)
        if not image.is_file():
            raise LoadError(f"the firmware image {image} does not exist; build it first")

        for attempt in range(1, self.port_attempts + 1):
            port = _free_loopback_port()
            self._launch(image, port)
            state = self._wait_ready()
            if state == "ready":
                self.port = port
                return f"socket://{LOOPBACK}:{port}"
            output = self.output()
            if state == "timeout":
                self.stop()
                raise LoadError(
                    f"QEMU's link socket {LOOPBACK}:{port} did not start listening within "
                    f"{self.start_timeout:g} s.\ncommand: {' '.join(self.command_line)}\nQEMU said:\n"
                    f"{output.strip() or '(nothing)'}"
                )
            code = self.exit_code()
            self.stop()
            if _PORT_BUSY_MARKER.decode() in output and attempt < self.port_attempts:
                continue  # another process took the port between our probe and QEMU's bind
            raise LoadError(
                f"QEMU exited with status {code} while starting {image.name}.\n"
                f"command: {' '.join(self.command_line)}\nQEMU said:\n{output.strip() or '(nothing)'}"
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _launch(self, image: Path, port: int) -> None:
        if self.gdb:
            self.gdb_port = _free_loopback_port()
        self.command_line = self.command(image, port)
        with self._output_changed:
            self._output.clear()
        self._stopped_by_loader = False
        try:
            self._process = start_child(
                self.command_line,
                stdin=subprocess.DEVNULL,  # nothing reads the terminal (semihosting input sees EOF)
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # semihosting output and QEMU's messages, in order
            )
        except OSError as error:
            raise LoadError(f"could not run {self.qemu}: {error}") from error
        self._reader = threading.Thread(target=self._read_output, args=(self._process,), daemon=True)
        self._reader.start()

    def _read_output(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        while True:
            chunk = os.read(fd, 4096)
            with self._output_changed:
                if chunk:
                    self._output += chunk
                self._output_changed.notify_all()
            if not chunk:
                return

    def _wait_ready(self) -> str:
        """'ready' once QEMU listens, 'exited' if it stopped first, 'timeout' otherwise."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        with self._output_changed:
            while True:
                if _READY_MARKER in self._output:
                    return "ready"
                if self._process.poll() is not None and not (self._reader and self._reader.is_alive()):
                    return "exited"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout"
                self._output_changed.wait(min(remaining, 0.05))

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` s for the firmware to end QEMU; exit_code() then, None if still running."""
        if self._process is None:
            return None
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._drain()
        return self.exit_code()

    def running(self) -> bool:
        """True while the QEMU process started by start() is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The QEMU process id (for resource measurements), None before start()."""
        return None if self._process is None else self._process.pid

    def _drain(self) -> None:
        """Once QEMU has exited, wait for the reader to take its last words (e.g. a fault report)."""
        if self._reader is not None and self._process is not None and self._process.poll() is not None:
            self._reader.join(timeout=self.stop_grace)

    def exit_code(self) -> int | None:
        """QEMU's exit status once it stopped by itself: the firmware's semihosting exit code
        (128 + n after fault n on mps2-an505), or QEMU's own failure status. None while it runs,
        and None when stop() ended it, as that status says nothing about the firmware."""
        if self._process is None or self._stopped_by_loader:
            return None
        return self._process.poll()

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self._stopped_by_loader = True
            stop_child(process, self.stop_grace)
        if self._reader is not None:
            self._reader.join(timeout=self.stop_grace)
            self._reader = None
        if process.stdout is not None:
            process.stdout.close()
        self.port = None
        self.gdb_port = None

    def output(self) -> str:
        self._drain()
        with self._output_changed:
            return self._output.decode("utf-8", errors="replace")
