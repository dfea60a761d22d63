"""A small client of the GDB remote serial protocol, for QEMU's gdbstub (`-gdb ... -S`).

Only what a debug probe needs: memory (m, M), registers by number (p, P) and their names from
the stub's target description (qXfer:features:read), run control (?, c, s, ^C, D) and monitor
commands (qRcmd, e.g. `system_reset`). QEMU 7.2 supports neither QStartNoAckMode nor binary
writes (X), so every packet is acknowledged and memory travels as hex.

While the target runs ('c' sent, no stop reply yet) the stub accepts nothing but an interrupt:
QEMU stops the machine on any byte it receives then. `running` tells which state it is in.

Every read has a timeout. A stub that is absent, silent or gone raises GdbStubError naming
host:port; once the connection is lost the client stays closed and says so again. (It imports
nothing heavy: pyOCD loads it with its probe plugins, on every start of pyOCD.)
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

from harness.errors import HilError

INTERRUPT = b"\x03"
DEFAULT_TIMEOUT = 5.0  # seconds for any answer; a stopped emulator answers in microseconds
_ESCAPE = 0x7D  # '}': the next byte is XORed with 0x20 (binary replies such as qXfer)
_INCLUDE = re.compile(r'<xi:include\s+href="([^"]+)"')


class GdbStubError(HilError):
    """The gdbstub is absent, silent, gone or answered something a probe cannot use."""


class GdbStubReplyError(GdbStubError):
    """The stub refused a request with an error reply (Enn), e.g. memory that is not mapped."""


@dataclass(frozen=True)
class Register:
    number: int  # the stub's register number, for p and P
    size: int  # bytes


def _checksum(payload: bytes) -> bytes:
    return b"%02x" % (sum(payload) & 0xFF)


def _unescape(payload: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for byte in payload:
        if escaped:
            out.append(byte ^ 0x20)
            escaped = False
        elif byte == _ESCAPE:
            escaped = True
        else:
            out.append(byte)
    return bytes(out)


class GdbRemote:
    """One connection to one gdbstub. Not thread-safe: the probe that owns it serializes calls."""

    def __init__(self, host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.running = False
        self.packet_size = 0  # largest packet the stub takes, from qSupported
        self._socket: socket.socket | None = None
        self._received = bytearray()
        self._lost: str | None = None  # why the connection ended, once it did
        self._registers: dict[str, Register] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # --- connection ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, learn the stub's packet size and check that the target is stopped (QEMU stops
        the machine when a debugger connects)."""
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise GdbStubError(
                f"no gdbstub answers on {self.address} ({error.strerror or error}); start QEMU with "
                f"-gdb tcp:{self.address} (and -S), or check the port"
            ) from None
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._received.clear()
        self._lost = None
        self._send("qSupported:xmlRegisters=arm")
        features = self._receive_packet()
        if features[:1] == "T":  # QEMU stopped a running machine for us, and says so first
            features = self._receive_packet()
        size = re.search(r"PacketSize=([0-9a-fA-F]+)", features)
        if size is None or "qXfer:features:read+" not in features:
            raise self._fail(f"the stub on {self.address} is not a usable gdbstub (qSupported: {features!r})")
        self.packet_size = int(size.group(1), 16)
        self._stop_reply(self.request("?"), "the first question")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._lost = self._lost or f"the connection to the gdbstub on {self.address} was closed"

    # --- packets ------------------------------------------------------------------------------

    def request(self, payload: str) -> str:
        """Send one packet and return the stub's answer."""
        self._send(payload)
        return self._receive_packet()

    def _send(self, payload: str) -> None:
        if self.running:
            raise GdbStubError(f"internal: packet {payload[:1]!r} sent to the running target on {self.address}")
        data = payload.encode("latin-1")
        self._write(b"$" + data + b"#" + _checksum(data))

    def _write(self, data: bytes) -> None:
        sock = self._connected()
        try:
            sock.sendall(data)
        except OSError as error:
            raise self._lost_connection(error.strerror or str(error))

    def _receive_packet(self) -> str:
        """The next packet from the stub (acks skipped, a bad one NAKed so the stub resends it)."""
        while True:
            start = self._received.find(b"$")
            if b"-" in (self._received if start < 0 else self._received[:start]):
                raise self._fail(f"the gdbstub on {self.address} rejected a packet of ours (bad checksum)")
            if start >= 0:
                end = self._received.find(b"#", start)
                if end >= 0 and len(self._received) >= end + 3:
                    payload = bytes(self._received[start + 1:end])
                    checksum = bytes(self._received[end + 1:end + 3])
                    del self._received[:end + 3]
                    if checksum.lower() == _checksum(payload):
                        self._write(b"+")
                        return _unescape(payload).decode("latin-1")
                    self._write(b"-")
                    continue
            self._receive_more()

    def _receive_more(self) -> None:
        sock = self._connected()
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise self._fail(
                f"the gdbstub on {self.address} did not answer within {self.timeout:g} s; "
                "QEMU is stopped or overloaded"
            ) from None
        except OSError as error:
            raise self._lost_connection(error.strerror or str(error))
        if not chunk:
            raise self._lost_connection("end of stream")
        self._received += chunk

    def check(self) -> None:
        """Raise GdbStubError, saying why, if the connection is lost."""
        self._connected()

    def _connected(self) -> socket.socket:
        if self._socket is None:
            raise GdbStubError(self._lost or f"not connected to the gdbstub on {self.address}")
        return self._socket

    def _lost_connection(self, detail: str) -> GdbStubError:
        return self._fail(f"the gdbstub on {self.address} closed the connection ({detail}): QEMU has exited; "
                          "its output says why")

    def _fail(self, reason: str) -> GdbStubError:
        """Close for good: every later call repeats `reason`."""
        self.running = False
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._lost = reason
        return GdbStubError(reason)

    def _checked(self, reply: str, what: str) -> str:
        if reply.startswith("E") and len(reply) == 3:
            raise GdbStubReplyError(f"the gdbstub on {self.address} refused {what} (error {reply[1:]})")
        return reply

    # --- memory -------------------------------------------------------------------------------

    @property
    def _chunk(self) -> int:
        """Bytes per memory packet: hex doubles them, and the header takes a few."""
        return (self.packet_size - 32) // 2

    def read_memory(self, address: int, length: int) -> bytes:
        data = bytearray()
        while len(data) < length:
            at = address + len(data)
            count = min(self._chunk, length - len(data))
            reply = self._checked(self.request(f"m{at:x},{count:x}"), f"a read of {count} bytes at {at:#010x}")
            chunk = bytes.fromhex(reply)
            if len(chunk) != count:
                raise self._fail(f"the gdbstub on {self.address} returned {len(chunk)} bytes for {count} at {at:#010x}")
            data += chunk
        return bytes(data)

    def write_memory(self, address: int, data: bytes) -> None:
        for offset in range(0, len(data), self._chunk):
            chunk = data[offset:offset + self._chunk]
            at = address + offset
            reply = self._checked(self.request(f"M{at:x},{len(chunk):x}:{chunk.hex()}"),
                                  f"a write of {len(chunk)} bytes at {at:#010x}")
            if reply != "OK":
                raise self._fail(f"the gdbstub on {self.address} answered {reply!r} to a memory write")

    # --- registers ----------------------------------------------------------------------------

    def registers(self) -> dict[str, Register]:
        """The stub's registers by name, numbered as its target description numbers them."""
        if self._registers is None:
            self._registers = {}
            number = 0
            for annex in _INCLUDE.findall(self._read_feature("target.xml")):
                for reg in ElementTree.fromstring(self._read_feature(annex)).iter("reg"):
                    number = int(reg.get("regnum", number))
                    self._registers[reg.get("name", "")] = Register(number, int(reg.get("bitsize", "32")) // 8)
                    number += 1
        return self._registers

    def _read_feature(self, annex: str) -> str:
        text = ""
        while True:
            reply = self._checked(self.request(f"qXfer:features:read:{annex}:{len(text):x},{self._chunk:x}"),
                                  f"the target description {annex}")
            if not reply or reply[0] not in "ml":
                raise self._fail(f"the gdbstub on {self.address} answered {reply[:20]!r} for {annex}")
            text += reply[1:]
            if reply[0] == "l":
                return text

    def read_register(self, register: Register) -> int:
        reply = self._checked(self.request(f"p{register.number:x}"), f"register {register.number}")
        return int.from_bytes(bytes.fromhex(reply), "little")

    def write_register(self, register: Register, value: int) -> None:
        encoded = value.to_bytes(register.size, "little").hex()
        reply = self._checked(self.request(f"P{register.number:x}={encoded}"), f"a write of register {register.number}")
        if reply != "OK":
            raise self._fail(f"the gdbstub on {self.address} answered {reply!r} to a register write")

    # --- run control --------------------------------------------------------------------------

    def cont(self) -> None:
        """Let the target run; its stop reply comes only after interrupt()."""
        self._send("c")
        self.running = True

    def step(self) -> None:
        """Execute one instruction."""
        self._stop_reply(self.request("s"), "a single step")

    def interrupt(self) -> None:
        """Stop the running target."""
        if not self.running:
            raise GdbStubError(f"internal: interrupt sent to the stopped target on {self.address}")
        self._write(INTERRUPT)
        self.running = False
        self._stop_reply(self._receive_packet(), "an interrupt")

    def _stop_reply(self, reply: str, what: str) -> None:
        if reply[:1] in ("W", "X"):
            raise self._fail(f"QEMU ended during {what} on {self.address} (stop reply {reply!r})")
        if reply[:1] not in ("T", "S"):
            raise self._fail(f"the gdbstub on {self.address} answered {reply!r} to {what}")

    def monitor(self, command: str) -> None:
        """Run a QEMU monitor command (e.g. system_reset); what it prints (O packets) is dropped."""
        reply = self.request("qRcmd," + command.encode().hex())
        while reply.startswith("O") and reply != "OK":
            reply = self._receive_packet()
        if self._checked(reply, f"the monitor command {command!r}") != "OK":
            raise self._fail(f"the gdbstub on {self.address} answered {reply!r} to the monitor command {command!r}")

    def detach(self) -> None:
        """Leave the target running on its own and close."""
        if self.running:
            self.interrupt()
        self.request("D")
        self.close()
