"""A lab host on 127.0.0.1: the servers a machine with boards on it runs, started for real.

The "board" is qemu-m33 on a shelf: QEMU halted with its gdbstub, waiting to be flashed. In front
of it, what a lab host runs in front of a real board:
  pyOCD's probe server   `pyocd server` serving the emulator's probe (`qemu-gdb:...`, our pyOCD
                         probe plugin, found through the venv's entry points); the harness opens it
                         as `remote:127.0.0.1:PORT`, pyOCD's own TCP client probe.
  ser2net (Debian)       RFC 2217 on 127.0.0.1 in front of the board's serial port. A UART on a
                         lab host is a tty (/dev/ttyACM0); the emulator's is a TCP socket, and
                         ser2net's RFC 2217 needs a serial device behind it (over a tcp connector
                         it refuses baud changes), so socat gives the emulator's UART a pty, which
                         ser2net serves as it would the board's port. socat connects at once, which
                         also lets QEMU (its UART `wait=on`) start serving its gdbstub.
  labgrid's coordinator  places and locks, for reservations (harness.farm.remote).
Every server binds 127.0.0.1 only, logs into the test's folder, and is stopped at teardown.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.device.board import Board
from harness.device.loaders.qemu import QemuLoader
from harness.paths import PROJECT_ROOT
from harness.targets import load_target

HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0
STOP_GRACE_S = 3.0
# A pty has no modem-control lines: ser2net does not confirm setting DTR and RTS on it, and
# pyserial would wait 3 s for that confirmation, then give up. A board's USB serial port confirms.
PTY_PORT_OPTIONS = "?ign_set_control"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
        return True
    return False


def program(name: str) -> str:
    """A server program: from the project's venv (Python ones), else Debian's; ./setup.sh installs both."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; ./setup.sh installs it")
    return found


@dataclass
class Service:
    """One server process, its output in a log file."""

    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, command: list[str], folder: Path, ready: Callable[[Service], bool], cwd: Path | None = None,
          ) -> Service:
    """Start a server and wait until `ready` says it serves; a failure names it and shows its log."""
    log = folder / f"{name}.log"
    with open(log, "wb") as stream:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
                                   cwd=cwd or folder)
    service = Service(name, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready(service):
        if not service.running() or time.monotonic() > deadline:
            service.stop()
            pytest.fail(f"{name} did not start (status {process.returncode}).\ncommand: {' '.join(command)}\n"
                        f"it said:\n{service.output().strip() or '(nothing)'}")
        time.sleep(0.05)
    return service


# --- labgrid's coordinator ------------------------------------------------------------------------


@dataclass
class Coordinator:
    address: str  # HOST:PORT, as labgrid-client -x takes it
    service: Service

    def client(self, *arguments: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        result = subprocess.run([program("labgrid-client"), "-x", self.address, *arguments], capture_output=True,
                                text=True, timeout=30, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"labgrid-client {' '.join(arguments)} failed: {result.stderr.strip()}")
        return result.stdout + result.stderr

    def create_place(self, name: str) -> str:
        self.client("-p", name, "create")
        return name

    def holder(self, place: str) -> str | None:
        acquired = re.search(r"acquired: (\S+)", self.client("-p", place, "show")).group(1)
        return None if acquired == "None" else acquired


@contextlib.contextmanager
def coordinator_on_loopback(folder: Path) -> Iterator[Coordinator]:
    """labgrid-coordinator on a free loopback port; its places and resources files stay in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    service = start("labgrid-coordinator", [program("labgrid-coordinator"), "-l", f"{HOST}:{port}"], folder,
                    lambda s: "Coordinator ready" in s.output() and listening(port))
    try:
        yield Coordinator(f"{HOST}:{port}", service)
    finally:
        service.stop()


# --- the board on the shelf and the servers in front of it -----------------------------------------


@dataclass
class LabHost:
    probe: str  # the probe server, as the harness names it: remote:127.0.0.1:PORT
    port: str  # ser2net's RFC 2217 port: rfc2217://127.0.0.1:PORT
    emulator: QemuLoader
    services: dict[str, Service] = field(default_factory=dict)

    def board(self, **options) -> Board:
        """The board record a harness on another machine would use: qemu-m33 named by probe and port."""
        board = Board(load_target("qemu-m33"), probe=self.probe, port=self.port, **options)
        assert board.on_shelf and board.load_method == "pyocd"
        return board

    def logs(self) -> str:
        parts = [f"--- {name}:\n{service.output().strip()}" for name, service in self.services.items()]
        return "\n".join([*parts, f"--- qemu:\n{self.emulator.output().strip()}"])


@contextlib.contextmanager
def lab_host_on_loopback(folder: Path) -> Iterator[LabHost]:
    """QEMU halted with its gdbstub, socat's pty on its UART, ser2net and pyOCD's probe server in front."""
    folder.mkdir(parents=True, exist_ok=True)
    emulator = QemuLoader(gdb=True)
    with contextlib.ExitStack() as stack:
        stack.callback(emulator.stop)
        emulator.start(PROJECT_ROOT / "README.md")  # with gdb QEMU loads no image: any file will do
        lab = LabHost(probe="", port="", emulator=emulator)
        stack.callback(lambda: [service.stop() for service in reversed(lab.services.values())])

        uart = folder / "uart"  # the board's serial port, as /dev/ttyACM0 is on a lab host
        lab.services["socat"] = start(
            "socat", [program("socat"), "-d", "-d", f"pty,link={uart},rawer", f"tcp:{HOST}:{emulator.port},nodelay"],
            folder, lambda s: uart.exists() and "starting data transfer loop" in s.output())

        serial_port = free_port()
        config = folder / "ser2net.yaml"
        config.write_text(ser2net_config(serial_port, uart))
        lab.services["ser2net"] = start(
            "ser2net", [program("ser2net"), "-n", "-u", "-c", str(config), "-P", str(folder / "ser2net.pid")],
            folder, lambda s: listening(serial_port))
        lab.port = f"rfc2217://{HOST}:{serial_port}{PTY_PORT_OPTIONS}"

        # Port 0: the server binds a free port and names it; without --allow-remote it binds localhost only.
        lab.services["pyocd-server"] = start(
            "pyocd-server", [program("pyocd"), "server", "--no-config", "-p", "0",
                             "-u", f"qemu-gdb:{HOST}:{emulator.gdb_port}"],
            folder, lambda s: re.search(r"Serving debug probe .* on port \d+", s.output()) is not None)
        probe_port = re.search(r"Serving debug probe .* on port (\d+)", lab.services["pyocd-server"].output()).group(1)
        lab.probe = f"remote:{HOST}:{probe_port}"
        yield lab


def ser2net_config(port: int, device: Path) -> str:
    """ser2net 4's YAML: RFC 2217 over telnet on 127.0.0.1:`port`, in front of the serial `device`."""
    return (
        "connection: &board\n"
        f"  accepter: telnet(rfc2217),tcp,{HOST},{port}\n"
        f"  connector: serialdev,{device},115200n81,local\n"
        "  options:\n"
        "    kickolduser: true\n"
    )


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab_coordinator(tmp_path_factory) -> Iterator[Coordinator]:
    with coordinator_on_loopback(tmp_path_factory.mktemp("coordinator")) as coordinator:
        yield coordinator


@pytest.fixture(scope="module")
def lab_host(tmp_path_factory) -> Iterator[LabHost]:
    """One lab host for the module: a board stays flashed between tests, as on a shelf."""
    with lab_host_on_loopback(tmp_path_factory.mktemp("lab")) as lab:
        yield lab


@pytest.fixture
def fresh_lab_host(tmp_path) -> Iterator[LabHost]:
    """A lab host of its own, for a test that stops its servers."""
    with lab_host_on_loopback(tmp_path / "lab") as lab:
        yield lab
