"""The host side of the link protocol (docs/protocol.md): requests, retransmission, typed calls.

`LinkClient` talks to one device over any object with pyserial's `read(n)`, `write(data)` and
`timeout` interface, e.g. `serial.serial_for_url("socket://127.0.0.1:PORT", timeout=1)` or a
board's virtual COM port. It sends one request at a time and retransmits on a bad frame, a NAK
or a timeout; the device answers a repeated request from its stored response, so nothing runs
twice. A device that faults sends FAULT on its own; the waiting request then raises DeviceFault.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from enum import IntEnum

from harness.device.link.framing import (
    MAX_BODY_FIELD,
    FrameError,
    FrameReader,
    Packet,
    decode_frame,
    encode_frame,
    max_frame_length,
)
from harness.errors import HilError

PROTOCOL_VERSION = 4
READ_CHUNK = 65536
# A request that runs nothing is sent again after each silent wait of `timeout`; after this many
# waits' worth of time the device counts as silent (damaged frames and NAKs retransmit at once).
SILENT_WAITS = 3


class MessageType(IntEnum):
    HELLO = 0x01
    WRITE_INPUT = 0x02
    INFER = 0x03
    TIME = 0x04
    READ_LAYER = 0x05
    READ_OUTPUT = 0x06
    MEASURE_STACK = 0x07
    INFO = 0x81
    WRITTEN = 0x82
    INFERRED = 0x83
    TIMED = 0x84
    LAYER_DATA = 0x85
    OUTPUT_DATA = 0x86
    STACK = 0x87
    FAULT = 0x88  # unsolicited, seq 0: the device faulted
    ERROR = 0x7F
    NAK = 0xFF


class ErrorCode(IntEnum):
    UNKNOWN_REQUEST = 1
    BAD_ARGUMENT = 2
    INPUT_INCOMPLETE = 3
    KERNEL_FAILED = 4
    NO_OUTPUT = 5
    NOT_SUPPORTED = 6
    BOARD_INIT_FAILED = 7


COUNTER_UNITS = {1: "cycles", 2: "instructions", 3: "ns"}
RESET_REASONS = {1: "power-on", 2: "software", 3: "watchdog", 4: "pin", 5: "other"}
CPU_FEATURES = {1: "dsp", 2: "fpu"}  # INFO's cpu_features bits, named as targets/*.toml name them
DTYPES = {1: "int8", 2: "float32", 3: "int32"}
DTYPE_BYTES = {"int8": 1, "float32": 4, "int32": 4}

_INFO_HEAD = struct.Struct("<HHBIBIHB")
_TENSOR = struct.Struct("<BB6iIfi")
_ERROR_HEAD = struct.Struct("<BI")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_READ_OUTPUT = struct.Struct("<IH")
_READ_LAYER = struct.Struct("<HIH")
_TIMED_HEAD = struct.Struct("<HH")
_STACK = struct.Struct("<II")
_FAULT = struct.Struct("<H11I")

# ARMv8-M exception numbers and fault status bits (Arm DDI 0553: IPSR, CFSR, HFSR, SFSR); the CFSR and SFSR
# bits by the fault they report. The *ARVALID bits are not named: they show as the address they validate.
EXCEPTIONS = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault", 7: "SecureFault",
              11: "SVCall", 12: "DebugMonitor", 14: "PendSV"}
HFSR_BITS = {1: "VECTTBL", 30: "FORCED", 31: "DEBUGEVT"}
CFSR_BITS = {
    "MemManage": {0: "IACCVIOL", 1: "DACCVIOL", 3: "MUNSTKERR", 4: "MSTKERR", 5: "MLSPERR"},
    "BusFault": {8: "IBUSERR", 9: "PRECISERR", 10: "IMPRECISERR", 11: "UNSTKERR", 12: "STKERR", 13: "LSPERR"},
    "UsageFault": {16: "UNDEFINSTR", 17: "INVSTATE", 18: "INVPC", 19: "NOCP", 20: "STKOF", 24: "UNALIGNED",
                   25: "DIVBYZERO"},
}
SFSR_BITS = {0: "INVEP", 1: "INVIS", 2: "INVER", 3: "AUVIOL", 4: "INVTRAN", 5: "LSPERR", 7: "LSERR"}
MMARVALID, BFARVALID, SFARVALID = 1 << 7, 1 << 15, 1 << 6  # CFSR, CFSR, SFSR
NO_FRAME = 0xFFFFFFFF  # pc, lr and xpsr when the device could not read the stacked frame


class LinkError(HilError):
    """The device or the link did not behave as docs/protocol.md says."""


class LinkTimeout(LinkError):
    """No valid answer to a request after every retransmission, or the port itself failed."""

    def __init__(self, message: str, *, port: str, request: str, tries: int, last_received: str):
        super().__init__(message)
        self.port = port
        self.request = request
        self.tries = tries
        self.last_received = last_received


class DeviceError(LinkError):
    """The device answered a request with ERROR."""

    def __init__(self, request: str, code: int, detail: int, device_message: str):
        try:
            name = ErrorCode(code).name.lower().replace("_", " ")
        except ValueError:
            name = "unknown code"
        super().__init__(f"the device refused {request}: error {code} ({name}), detail {detail}: {device_message}")
        self.request = request
        self.code = code
        self.detail = detail
        self.device_message = device_message


def _set_bits(value: int, names: dict[int, str]) -> list[str]:
    return [name for bit, name in names.items() if value >> bit & 1]


class DeviceFault(LinkError):
    """The device reported a fault (FAULT) while a request waited for its answer: it has stopped.
    The raw fields are attributes; the message names the exception, the set status bits and where."""

    def __init__(self, request: str, port: str, fields: tuple[int, ...]):
        (self.exception, self.pc, self.lr, self.xpsr, self.sp, self.exc_return, self.cfsr, self.hfsr, self.sfsr,
         self.mmfar, self.bfar, self.sfar) = fields
        self.request = request
        self.port = port
        super().__init__(f"the device faulted during {request} on {port}: {self.describe()}")

    @property
    def exception_name(self) -> str:
        if self.exception >= 16:
            return f"unexpected interrupt {self.exception - 16}"
        return EXCEPTIONS.get(self.exception, f"exception {self.exception}")

    def describe(self) -> str:
        """e.g. "HardFault (FORCED), UsageFault DIVBYZERO at pc=0x1000123a lr=0x10001301 sp=0x380bff58 ...";
        a fault reported as itself reads "UsageFault DIVBYZERO at ..."."""
        faults = {kind: bits for kind, names in CFSR_BITS.items() if (bits := _set_bits(self.cfsr, names))}
        if sfsr := _set_bits(self.sfsr, SFSR_BITS):
            faults["SecureFault"] = sfsr
        hfsr = " ".join(_set_bits(self.hfsr, HFSR_BITS))
        parts = [] if self.exception_name in faults else [self.exception_name + (f" ({hfsr})" if hfsr else "")]
        parts += [f"{kind} {' '.join(bits)}" for kind, bits in faults.items()]
        if self.pc == NO_FRAME:
            where = [f"with no readable exception frame, sp=0x{self.sp:08x}"]
        else:
            where = [f"at pc=0x{self.pc:08x}", f"lr=0x{self.lr:08x}", f"sp=0x{self.sp:08x}", f"xpsr=0x{self.xpsr:08x}"]
        addresses = (("mmfar", self.mmfar, self.cfsr & MMARVALID), ("bfar", self.bfar, self.cfsr & BFARVALID),
                     ("sfar", self.sfar, self.sfsr & SFARVALID))
        where += [f"{name}=0x{value:08x}" for name, value, valid in addresses if valid]
        where.append(f"exc_return=0x{self.exc_return:08x}")
        return f"{', '.join(parts)} {' '.join(where)}"


class ProtocolMismatch(LinkError):
    """The device speaks another protocol version, or runs another model or build."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    scale: float  # 0 for an unquantized tensor
    zero_point: int


@dataclass(frozen=True)
class DeviceInfo:
    """Every field of the device's INFO response, in protocol order."""

    protocol_version: int
    max_body: int
    counter_unit: int  # 1 cycles, 2 instructions, 3 ns (counter_unit_name)
    counter_hz: int | None  # None: the counter has no fixed rate (0 on the wire)
    reset_reason: int  # 1 power-on, 2 software, 3 watchdog, 4 pin, 5 other (reset_reason_name)
    arena_size: int
    layer_count: int
    cpu_features: int  # the fast paths the image was built with: CPU_FEATURES bits
    input: TensorInfo
    output: TensorInfo
    model_sha256: str  # hex
    target: str
    build_id: str

    @property
    def counter_unit_name(self) -> str:
        return COUNTER_UNITS.get(self.counter_unit, f"unknown unit {self.counter_unit}")

    @property
    def cpu_feature_names(self) -> tuple[str, ...]:
        """As the target descriptors name them (targets/schema.json), sorted; unknown bits by number."""
        names = [name for bit, name in CPU_FEATURES.items() if self.cpu_features & bit]
        unknown = self.cpu_features & ~sum(CPU_FEATURES)
        return tuple(sorted(names)) + ((f"unknown bits {unknown:#x}",) if unknown else ())

    @property
    def reset_reason_name(self) -> str:
        return RESET_REASONS.get(self.reset_reason, f"unknown reset reason {self.reset_reason}")


@dataclass(frozen=True)
class TimingResult:
    totals: tuple[int, ...]  # counter ticks of each run, in the device's counter unit
    per_layer: tuple[int, ...]  # each layer's ticks in the last run


@dataclass
class LinkStats:
    requests: int = 0
    retransmissions: int = 0
    bad_frames: int = 0  # frames received that failed COBS, length or CRC checks
    naks: int = 0  # the device reported a bad frame from us
    timeouts: int = 0  # waits that ended with no answer
    stale_responses: int = 0  # good frames answering an earlier request (dropped)


@dataclass
class _Attempt:
    last_received: str = "nothing"


def _describe(packet: Packet) -> str:
    try:
        name = MessageType(packet.type).name
    except ValueError:
        name = f"type 0x{packet.type:02x}"
    return f"{name} (seq {packet.seq}, {len(packet.body)} body bytes)"


def _ascii(data: bytes) -> str:
    return data.decode("ascii", errors="replace")


def _tensor(fields: tuple) -> TensorInfo:
    dtype, rank, *rest = fields
    dims, size, scale, zero_point = rest[:6], rest[6], rest[7], rest[8]
    if rank > 6:
        raise LinkError(f"INFO describes a tensor of rank {rank}; the protocol allows at most 6")
    if dtype not in DTYPES:
        raise LinkError(f"INFO describes a tensor of dtype code {dtype}; the protocol knows {sorted(DTYPES)}")
    shape = tuple(dims[:rank])
    elements = 1
    for dim in shape:
        if dim < 1:
            raise LinkError(f"INFO describes a tensor of shape {shape}; every dimension must be at least 1")
        elements *= dim
    if size != elements * DTYPE_BYTES[DTYPES[dtype]]:
        raise LinkError(f"INFO describes a {DTYPES[dtype]} tensor of shape {shape} as {size} bytes")
    return TensorInfo(DTYPES[dtype], shape, size, scale, zero_point)


def parse_info(body: bytes) -> DeviceInfo:
    """An INFO body -> DeviceInfo; ProtocolMismatch first when the version is not ours."""
    if len(body) < 2:
        raise LinkError(f"INFO body of {len(body)} bytes has no protocol version")
    (version,) = _U16.unpack_from(body)
    if version != PROTOCOL_VERSION:
        side = "rebuild and reload the firmware" if version < PROTOCOL_VERSION else "update the harness"
        raise ProtocolMismatch(
            f"the device speaks link protocol version {version}, this harness speaks {PROTOCOL_VERSION}: {side}"
        )
    try:
        (version, max_body, unit, hz, reset, arena, layers, features) = _INFO_HEAD.unpack_from(body)
        at = _INFO_HEAD.size
        tensor_in = _tensor(_TENSOR.unpack_from(body, at))
        tensor_out = _tensor(_TENSOR.unpack_from(body, at + _TENSOR.size))
        at += 2 * _TENSOR.size
        sha = body[at : at + 32]
        at += 32
        target_length = body[at]
        target = _ascii(body[at + 1 : at + 1 + target_length])
        at += 1 + target_length
        (build_length,) = _U16.unpack_from(body, at)
        build_id = _ascii(body[at + 2 : at + 2 + build_length])
        at += 2 + build_length
    except (struct.error, IndexError):
        raise LinkError(f"INFO body of {len(body)} bytes is shorter than its fields say") from None
    if at != len(body) or len(sha) != 32 or len(target) != target_length or len(build_id) != build_length:
        raise LinkError(f"INFO body is {len(body)} bytes, its fields add up to {at}")
    # Every later request is sized from max_body: refuse one that cannot carry the protocol.
    if max_body < len(body):
        raise LinkError(
            f"the device announces max_body {max_body}, less than its own {len(body)}-byte INFO "
            "(docs/protocol.md: INFO fits max_body); it does not run firmware this harness built"
        )
    timed_one_run = _TIMED_HEAD.size + 4 * (1 + layers)
    if max_body < timed_one_run:
        raise LinkError(
            f"the device announces max_body {max_body} and {layers} layers: one TIMED answer needs "
            f"{timed_one_run} bytes; it does not run firmware this harness built"
        )
    if unit not in COUNTER_UNITS:
        raise LinkError(f"INFO names counter unit {unit}; the protocol knows {sorted(COUNTER_UNITS)}")
    return DeviceInfo(
        protocol_version=version,
        max_body=max_body,
        counter_unit=unit,
        counter_hz=hz or None,
        reset_reason=reset,
        arena_size=arena,
        layer_count=layers,
        cpu_features=features,
        input=tensor_in,
        output=tensor_out,
        model_sha256=sha.hex(),
        target=target,
        build_id=build_id,
    )


@dataclass(frozen=True)
class RunTimeout:
    """How long the device may stay silent on a request that runs the model `runs` times:
    per_run * runs + slack seconds in all, retransmissions included."""

    per_run: float
    slack: float = 0.0

    def seconds(self, runs: int = 1) -> float:
        return self.per_run * runs + self.slack


class LinkClient:
    """Requests and responses over one port, with retransmission.

    timeout:      seconds to wait for the answer to a small request (HELLO, WRITE_INPUT, reads), per try;
                  SILENT_WAITS times that in all.
    run_timeout:  the whole time a request that runs the model (INFER, TIME, READ_LAYER, MEASURE_STACK) may
                  take, retransmissions included: a silent device is reported once it has passed.
    retries:      retransmissions of one request before LinkTimeout (docs/protocol.md: 8).

    The client owns the port while it lives: it sets the port's `timeout` for every read.
    """

    def __init__(self, port, *, timeout: float = 1.0, run_timeout: RunTimeout = RunTimeout(10.0), retries: int = 8,
                 name: str | None = None):
        self._port = port
        self.timeout = timeout
        self.run_timeout = run_timeout
        self.retries = retries
        self.name = name or getattr(port, "port", None) or getattr(port, "name", None) or repr(port)
        self.stats = LinkStats()
        self.info: DeviceInfo | None = None
        self._seq = 0
        self._reader = FrameReader()
        flush = getattr(port, "reset_input_buffer", None)
        if flush is not None:  # whatever a board printed before the link was opened
            flush()

    @property
    def retransmissions(self) -> int:
        return self.stats.retransmissions

    @property
    def bad_frames(self) -> int:
        return self.stats.bad_frames

    # ---- requests ----

    def request(self, kind: MessageType, body: bytes = b"", runs: int = 0) -> bytes:
        """Sends one request until its response arrives; the response's body. ERROR -> DeviceError.

        A request that runs nothing waits `timeout` per try, SILENT_WAITS times that in all. One that
        runs the model `runs` times
        has run_timeout.seconds(runs) in all: each silent wait takes half of it, so a lost request is
        sent once more in time, and a device that stays silent is reported when the whole has passed.
        A damaged frame or a NAK is answered by retransmitting at once, within the same limits."""
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFF
        label = f"{kind.name} (seq {seq})"
        frame = encode_frame(Packet(int(kind), seq, body))
        if runs:
            total = self.run_timeout.seconds(runs)
            wait = total / 2
        else:
            wait = self.timeout
            total = wait * SILENT_WAITS
        max_body = self.info.max_body if self.info else MAX_BODY_FIELD
        self.stats.requests += 1
        attempt = _Attempt()
        tries = 0
        started = time.monotonic()
        give_up = started + total
        while tries <= self.retries and time.monotonic() < give_up:
            if tries:
                self.stats.retransmissions += 1
            tries += 1
            self._transfer(lambda: self._port.write(frame), label, tries, attempt)
            packet = self._await(seq, max_body, min(time.monotonic() + wait, give_up), label, tries, attempt)
            if packet is not None:
                return self._check_response(kind, label, packet)
        raise LinkTimeout(
            f"no valid answer to {label} from {self.name} within {time.monotonic() - started:.1f} s "
            f"({tries} tries, {wait:g} s each); last received: {attempt.last_received}. "
            "Is the firmware running, and is this its port?",
            port=self.name, request=label, tries=tries, last_received=attempt.last_received,
        )

    def _transfer(self, action, label: str, tries: int, attempt: _Attempt):
        try:
            return action()
        except OSError as exc:  # serial.SerialException is an OSError
            raise LinkTimeout(
                f"the link {self.name} failed during {label} (try {tries}): {exc}; last received: "
                f"{attempt.last_received}. The device, emulator or cable is gone.",
                port=self.name, request=label, tries=tries, last_received=attempt.last_received,
            ) from None

    def _await(self, seq: int, max_body: int, deadline: float, label: str, tries: int,
               attempt: _Attempt) -> Packet | None:
        """The response to `seq`, or None when the request must be sent again."""
        while True:
            try:
                frame = self._reader.next_frame()
            except FrameError as exc:  # longer than any frame the device may send
                self.stats.bad_frames += 1
                attempt.last_received = f"a bad frame ({exc})"
                return None
            if frame is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stats.timeouts += 1
                    pending = self._reader.pending
                    if pending:
                        attempt.last_received = f"{len(pending)} bytes of an unfinished frame"
                    return None
                self._reader.feed(self._transfer(lambda: self._read(remaining), label, tries, attempt))
                continue
            try:
                packet = decode_frame(frame, max_body)
            except FrameError as exc:
                self.stats.bad_frames += 1
                attempt.last_received = f"a bad frame of {len(frame)} bytes ({exc})"
                return None
            if packet.type == MessageType.NAK:
                self.stats.naks += 1
                attempt.last_received = "a NAK (the device received a damaged request)"
                return None
            if packet.type == MessageType.FAULT:  # unsolicited: the device has stopped, nothing will answer
                if len(packet.body) != _FAULT.size:
                    raise LinkError(f"the device sent a FAULT of {len(packet.body)} bytes, expected {_FAULT.size}")
                raise DeviceFault(label, self.name, _FAULT.unpack(packet.body))
            if packet.seq != seq:  # a late answer to an earlier request: not ours, keep waiting
                self.stats.stale_responses += 1
                attempt.last_received = f"a stale {_describe(packet)}"
                continue
            return packet

    def _read(self, wait: float) -> bytes:
        """Waits up to `wait` s for one byte, then takes whatever else has arrived."""
        self._port.timeout = wait
        data = self._port.read(1)
        if data:
            self._port.timeout = 0
            data += self._port.read(READ_CHUNK)
        return data

    def _check_response(self, kind: MessageType, label: str, packet: Packet) -> bytes:
        if packet.type == MessageType.ERROR:
            if len(packet.body) < _ERROR_HEAD.size:
                raise LinkError(f"the device answered {label} with an ERROR of {len(packet.body)} bytes")
            code, detail = _ERROR_HEAD.unpack_from(packet.body)
            raise DeviceError(label, code, detail, _ascii(packet.body[_ERROR_HEAD.size :]))
        if packet.type != kind | 0x80:
            raise LinkError(
                f"the device answered {label} with {_describe(packet)}, expected "
                f"{MessageType(kind | 0x80).name}; does it run link protocol version {PROTOCOL_VERSION}?"
            )
        return packet.body

    # ---- typed calls ----

    def hello(self) -> DeviceInfo:
        self.info = parse_info(self.request(MessageType.HELLO))
        self._reader.max_frame = max_frame_length(self.info.max_body)
        return self.info

    def _device(self) -> DeviceInfo:
        return self.info if self.info is not None else self.hello()

    def write_input(self, data: bytes, offset: int = 0) -> int:
        """Writes `data` at `offset` of the staged input in chunks of max_body - 4; bytes staged.

        A write at offset 0 starts a new input on the device (docs/protocol.md)."""
        if not data:
            raise ValueError("nothing to write: an empty write at offset 0 would only clear the staged input")
        chunk = self._device().max_body - _U32.size
        staged = 0
        for start in range(0, len(data), chunk):
            body = _U32.pack(offset + start) + bytes(data[start : start + chunk])
            (staged,) = _U32.unpack(self._expect(MessageType.WRITE_INPUT, body, _U32.size))
        return staged

    def infer(self) -> int:
        """Runs the staged input once; the inference's counter ticks."""
        (ticks,) = _U32.unpack(self._expect(MessageType.INFER, b"", _U32.size, runs=1))
        return ticks

    def read_output(self) -> bytes:
        info = self._device()
        out = bytearray()
        while len(out) < info.output.bytes:
            length = min(info.max_body, info.output.bytes - len(out))
            out += self._expect(MessageType.READ_OUTPUT, _READ_OUTPUT.pack(len(out), length), length)
        return bytes(out)

    def run(self, input_bytes: bytes) -> tuple[bytes, int]:
        """A data run: upload, infer, read back. (output bytes, counter ticks)."""
        self.write_input(input_bytes)
        ticks = self.infer()
        return self.read_output(), ticks

    def max_runs_per_request(self) -> int:
        info = self._device()
        return (info.max_body - _TIMED_HEAD.size - 4 * info.layer_count) // 4

    def time(self, runs: int) -> TimingResult:
        """A timing run on the staged input, split into as many TIME requests as max_body needs."""
        if runs < 1:
            raise ValueError(f"runs must be at least 1, got {runs}")
        per_request = self.max_runs_per_request()  # at least 1: parse_info refuses a max_body too small
        totals: list[int] = []
        per_layer: tuple[int, ...] = ()
        while len(totals) < runs:
            count = min(per_request, runs - len(totals))
            body = self._expect(MessageType.TIME, _U16.pack(count), None, runs=count)
            got_runs, layers = _TIMED_HEAD.unpack_from(body)
            if got_runs != count or len(body) != _TIMED_HEAD.size + 4 * (got_runs + layers):
                raise LinkError(f"TIMED for {count} runs has runs={got_runs}, layers={layers}, {len(body)} bytes")
            values = struct.unpack_from(f"<{got_runs + layers}I", body, _TIMED_HEAD.size)
            totals += values[:got_runs]
            per_layer = tuple(values[got_runs:])
        return TimingResult(tuple(totals), per_layer)

    def read_layer(self, layer: int, size: int) -> bytes:
        """One layer's output for the staged input (each request runs the model once more); `size`:
        its bytes as compiled, which the device must say too (a streamed layer's output is larger
        than the arena, so nothing on the device bounds it)."""
        info = self._device()
        chunk = info.max_body - _U32.size
        out = bytearray()
        while True:
            body = self._expect(MessageType.READ_LAYER, _READ_LAYER.pack(layer, len(out), chunk), None, runs=1)
            if len(body) < _U32.size:
                raise LinkError(f"LAYER_DATA of {len(body)} bytes has no layer size")
            (said,) = _U32.unpack_from(body)
            if said != size:  # a device gone wrong, or not running this model
                raise LinkError(f"layer {layer}: the device says its output is {said} bytes, the model's is {size}")
            out += body[_U32.size :]
            if len(out) >= size or len(body) == _U32.size:
                if len(out) != size:
                    raise LinkError(f"layer {layer}: read {len(out)} bytes of a {size}-byte output")
                return bytes(out)

    def measure_stack(self) -> int | None:
        """Bytes of stack one inference on the staged input uses, measured on the device by
        painting; None when the board cannot measure its stack (ERROR 6). Other errors raise."""
        try:
            body = self._expect(MessageType.MEASURE_STACK, b"", _STACK.size, runs=1)
        except DeviceError as exc:
            if exc.code == ErrorCode.NOT_SUPPORTED:
                return None
            raise
        used, size = _STACK.unpack(body)
        if used > size:
            raise LinkError(f"the device reports {used} bytes of stack used out of a {size}-byte stack")
        return used

    def _expect(self, kind: MessageType, body: bytes, length: int | None, runs: int = 0) -> bytes:
        answer = self.request(kind, body, runs)
        if length is not None and len(answer) != length:
            raise LinkError(f"the device answered {kind.name} with {len(answer)} body bytes, expected {length}")
        return answer
