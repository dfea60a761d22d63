"""A running device with a verified identity: upload patches, read outputs, time the model.

`open_device` does build -> load -> link -> handshake for command-line use; the pytest
plugin takes the same steps as separate fixtures.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import serial

from harness.build.firmware import FirmwareImage, build_firmware
from harness.compiler import CompiledModel
from harness.device.link.protocol import DeviceInfo, LinkClient, ProtocolMismatch
from harness.device.loaders import make_loader
from harness.errors import HilError
from harness.inputs import stack_inputs
from harness.targets import Target

DEFAULT_BAUD = 921_600
OPEN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunResult:
    outputs: np.ndarray
    ticks: np.ndarray  # the device's counter for each inference, in `unit`
    unit: str
    seconds: float  # wall-clock, end to end (upload, inference, read back)
    retransmits: int


@dataclass(frozen=True)
class TimingResult:
    unit: str
    totals: tuple[int, ...]
    per_layer: tuple[int, ...]  # of the last run


def identity_problems(info: DeviceInfo, image: FirmwareImage) -> list[str]:
    """Every way the device differs from the image the harness built for it.

    The protocol version is checked earlier, when the INFO frame is parsed."""
    graph = image.model.graph
    expected = {
        "model SHA-256": (graph.sha256, info.model_sha256),
        "target": (image.target.id, info.target),
        "build id": (image.build_id, info.build_id),
        "arena size": (image.model.plan.arena_size, info.arena_size),
        "input shape": (tuple(graph.tensor(graph.inputs[0]).shape), tuple(info.input.shape)),
        "output shape": (tuple(graph.tensor(graph.outputs[0]).shape), tuple(info.output.shape)),
    }
    return [f"{what}: device has {got!r}, expected {want!r}" for what, (want, got) in expected.items() if want != got]


def verify_identity(info: DeviceInfo, image: FirmwareImage, port: str) -> None:
    problems = identity_problems(info, image)
    if problems:
        raise ProtocolMismatch(
            f"the device on {port} does not run the firmware the harness built for "
            f"{image.model.name} on {image.target.id}:\n  " + "\n  ".join(problems) + "\n"
            "Load the image again (for a board: reflash it), or point --port at the right device."
        )


def open_port(url: str, baud: int, timeout: float) -> serial.SerialBase:
    # A real port is locked so that two runs never share a board; URLs (socket://) need no lock.
    exclusive = {} if "://" in url else {"exclusive": True}
    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout, write_timeout=timeout, **exclusive)
    except serial.SerialException as exc:
        raise HilError(
            f"cannot open the link {url}: {exc}. Check that the port exists, that no other program "
            "(a terminal, another test run) holds it, and that you may open it (dialout group)"
        ) from None


class Device:
    def __init__(self, client: LinkClient, image: FirmwareImage, port: str):
        self.client = client
        self.image = image
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
        ticks = np.empty(batch.shape[0], dtype=np.int64)
        started = time.perf_counter()
        for i, x in enumerate(batch):
            raw, ticks[i] = self.client.run(x.tobytes())
            outputs[i] = np.frombuffer(raw, dtype=outputs.dtype).reshape(out_tensor.shape)
            if on_patch is not None:
                on_patch(i)
        seconds = time.perf_counter() - started
        return RunResult(outputs, ticks, self.counter_unit, seconds, self.client.retransmissions - before)

    def time(self, patch: np.ndarray, runs: int) -> TimingResult:
        """Stage one patch, then run it `runs` times with no link traffic inside the measured window."""
        graph = self.image.model.graph
        staged = stack_inputs(patch[np.newaxis], graph.tensor(graph.inputs[0]), "patch")[0]
        self.client.write_input(staged.tobytes())
        result = self.client.time(runs)
        return TimingResult(self.counter_unit, tuple(result.totals), tuple(result.per_layer))

    def measure_stack(self, patch: np.ndarray) -> int | None:
        """Stage one patch, then measure the stack one inference on it uses, on the device
        (bytes below the protocol loop's frame). None where the board cannot measure its stack."""
        graph = self.image.model.graph
        staged = stack_inputs(patch[np.newaxis], graph.tensor(graph.inputs[0]), "patch")[0]
        self.client.write_input(staged.tobytes())
        return self.client.measure_stack()


@contextlib.contextmanager
def open_device(
    model: CompiledModel, target: Target, port: str | None = None, baud: int | None = None,
    timeout: float = OPEN_TIMEOUT_S,
) -> Iterator[Device]:
    """Build, load, connect and verify; everything is released on exit."""
    image = build_firmware(model, target)
    with make_loader(target, port) as loader:
        url = loader.start(image.path)
        link = open_port(url, baud or target.baud or DEFAULT_BAUD, timeout)
        try:
            yield Device(LinkClient(link), image, url)
        except HilError as exc:
            console = loader.output()
            if console:
                raise HilError(f"{exc}\n(target output: {console[-2000:]})") from None
            raise
        finally:
            link.close()
