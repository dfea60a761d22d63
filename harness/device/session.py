"""A device session: build -> load -> link -> handshake, then a verified device to run on.

`Session` takes the steps one at a time (the pytest plugin gives each its own fixture);
`open_device` takes them all at once (the `hil` commands). Both go through the same code, with
the same board record, and every error on the way or afterwards carries what the target
printed outside the link (its console, the emulator's messages).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import serial

from harness.build.firmware import FirmwareImage, build_firmware
from harness.compiler import CompiledModel
from harness.device.board import Board
from harness.device.identity import verify_identity
from harness.device.link.protocol import DeviceError, ErrorCode, LinkClient
from harness.device.loaders import Loader, check_loadable, make_loader
from harness.device.port import open_port
from harness.errors import HilError
from harness.inputs import stack_inputs

CONSOLE_SHOWN = 2000  # characters of the target's console an error report carries


@dataclass(frozen=True)
class RunResult:
    outputs: np.ndarray
    seconds: float  # wall-clock, end to end (upload, inference, read back)
    retransmits: int


@dataclass(frozen=True)
class TimingResult:
    unit: str
    totals: tuple[int, ...]
    per_layer: tuple[int, ...]  # of the last run


class Device:
    """A device whose identity was verified. `reporting` wraps each call so that its errors say
    what the target printed (Session.reporting)."""

    def __init__(self, client: LinkClient, image: FirmwareImage, port: str,
                 reporting: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext):
        self.client = client
        self.image = image
        self._reporting = reporting
        with reporting():
            self.info = client.hello()
            verify_identity(self.info, image, port)

    @property
    def counter_unit(self) -> str:
        return self.info.counter_unit_name

    def run(self, inputs: np.ndarray, on_patch: Callable[[int], None] | None = None) -> RunResult:
        """Upload, infer and read back each patch in turn; `on_patch(i)` after each one."""
        graph = self.image.model.graph
        batch = stack_inputs(inputs, graph.tensor(graph.inputs[0]), "inputs")
        out_tensor = graph.tensor(graph.outputs[0])
        before = self.client.retransmissions
        outputs = np.empty((batch.shape[0], *out_tensor.shape), dtype=np.dtype(out_tensor.dtype))
        started = time.perf_counter()
        with self._reporting():
            for i, x in enumerate(batch):
                raw, _ = self.client.run(x.tobytes())  # latency is measured by timing runs
                outputs[i] = np.frombuffer(raw, dtype=outputs.dtype).reshape(out_tensor.shape)
                if on_patch is not None:
                    on_patch(i)
        seconds = time.perf_counter() - started
        return RunResult(outputs, seconds, self.client.retransmissions - before)

    def time(self, patch: np.ndarray, runs: int) -> TimingResult:
        """Stage one patch, then run it `runs` times with no link traffic inside the measured window."""
        with self._reporting():
            self._stage(patch)
            result = self.client.time(runs)
        return TimingResult(self.counter_unit, tuple(result.totals), tuple(result.per_layer))

    def measure_stack(self, patch: np.ndarray) -> int | None:
        """Stage one patch, then measure the stack one inference on it uses, on the device
        (bytes below the protocol loop's frame). None where the board cannot measure its stack."""
        with self._reporting():
            self._stage(patch)
            return self.client.measure_stack()

    def layer_outputs(self, patch: np.ndarray) -> Iterator[tuple[int, bytes]]:
        """Stage one patch, then each layer's output in schedule order, read as it is asked for
        (READ_LAYER runs the model once per chunk): a caller that stops early reads no more."""
        with self._reporting():
            self._stage(patch)
        model = self.image.model
        for index, call in enumerate(model.calls):
            with self._reporting():
                raw = self.client.read_layer(index, model.graph.tensor(call.outputs[0]).nbytes)
            yield index, raw

    def _stage(self, patch: np.ndarray) -> None:
        graph = self.image.model.graph
        staged = stack_inputs(patch[np.newaxis], graph.tensor(graph.inputs[0]), "patch")[0]
        self.client.write_input(staged.tobytes())


class Session:
    """One device, opened step by step: build() -> load() -> connect() -> handshake().

    Each step needs the one before; disconnect() undoes connect(), unload() undoes load() and
    connect(). A HilError raised by a step, or by the device afterwards, has what
    the target printed appended to its message."""

    def __init__(self, model: CompiledModel, board: Board):
        self.model = model
        self.board = board
        self.image: FirmwareImage | None = None
        self.url: str | None = None
        self._loader: Loader | None = None
        self._port: serial.SerialBase | None = None

    def build(self) -> FirmwareImage:
        target = self.board.target
        if self.board.baud is not None:  # the firmware is built for the link's rate
            target = dataclasses.replace(target, baud=self.board.baud)
        self.image = build_firmware(self.model, target)
        return self.image

    def load(self) -> str:
        """Start the image on the target; the pyserial URL of its link."""
        assert self.image is not None, "build() first"
        self._loader = make_loader(self.board, self.image)
        with self.reporting():
            self.url = self._loader.start(self.image.path)
        return self.url

    def connect(self) -> LinkClient:
        assert self.url is not None, "load() first"
        board = self.board
        with self.reporting():
            self._port = open_port(self.url, board.link_baud, board.link_timeout)
        return LinkClient(self._port, timeout=board.link_timeout, run_timeout=board.run_timeout(self.model.macs),
                          name=self.url)

    def handshake(self, client: LinkClient) -> Device:
        """The device, once its protocol, model, target and build are those the harness built."""
        assert self.image is not None and self.url is not None, "build(), load() and connect() first"
        return Device(client, self.image, self.url, self.reporting)

    def console(self) -> str:
        """What the target printed outside the link so far ('' before load())."""
        return self._loader.output() if self._loader is not None else ""

    @contextlib.contextmanager
    def reporting(self) -> Iterator[None]:
        """Append the target's console to a HilError's message (once), keeping its type; a failed
        kernel's layer gets its name (the device knows layers by index only)."""
        try:
            yield
        except HilError as exc:
            if isinstance(exc, DeviceError) and exc.code == ErrorCode.KERNEL_FAILED and exc.detail < len(self.model.calls):
                exc.args = (f"{exc.args[0]} (layer {exc.detail} is {self.model.describe_layer(exc.detail)})",
                            *exc.args[1:])
            console = self.console().strip()
            if console and not getattr(exc, "console_attached", False):
                exc.args = (f"{exc.args[0] if exc.args else exc}\n(target output: {console[-CONSOLE_SHOWN:]})",
                            *exc.args[1:])
                exc.console_attached = True
            raise

    def disconnect(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            port.close()

    def unload(self) -> None:
        self.disconnect()
        loader, self._loader = self._loader, None
        self.url = None
        if loader is not None:
            loader.stop()


@contextlib.contextmanager
def open_device(model: CompiledModel, board: Board) -> Iterator[Device]:
    """Build, load, connect and verify; everything is released on exit."""
    session = Session(model, board)
    try:
        check_loadable(board)
        session.build()
        session.load()
        yield session.handshake(session.connect())
    finally:
        session.unload()
