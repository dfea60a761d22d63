"""MEASURE_STACK on the emulated Cortex-M33: the firmware serving the tiny example model under
QEMU paints its stack, runs one inference and reports how deep the stack went."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import serial

from harness.build.firmware import build_firmware
from harness.device.board import Board
from harness.device.link.protocol import DeviceError, ErrorCode, LinkClient, MessageType
from harness.device.loaders.qemu import QemuLoader
from harness.device.session import Device, open_device
from harness.parity.golden import GoldenModel
from harness.targets import load_target

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed"),
]

STACK_SIZE = 16 * 1024  # mps2-an505.ld's default HIL_STACK_SIZE


@pytest.fixture(scope="module")
def image(example_compiled):
    return build_firmware(example_compiled, load_target("qemu-m33"))


def patch(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (1, 8, 6, 1), dtype=np.int8)


def measure_on_a_fresh_emulator(image, x: np.ndarray) -> int | None:
    with QemuLoader() as loader:
        with serial.serial_for_url(loader.start(image.path), timeout=10) as link:
            return Device(LinkClient(link), image, "qemu").measure_stack(x)


def test_one_inference_uses_a_plausible_repeatable_stack(image):
    first = measure_on_a_fresh_emulator(image, patch(1))
    second = measure_on_a_fresh_emulator(image, patch(1))
    assert first is not None
    # The model's invoke function and a kernel's frame at least; far less than the whole stack.
    assert 64 <= first < STACK_SIZE // 2
    assert second == first


def test_measuring_runs_the_model_and_repeats_within_a_session(example_compiled, example_model_path):
    golden = GoldenModel(example_model_path)
    with open_device(example_compiled, Board(load_target("qemu-m33"))) as device:
        used = [device.measure_stack(patch(seed)) for seed in (2, 2, 3)]
        assert used[0] == used[1]  # the same input, the same depth: each request paints again
        assert all(u is not None and 0 < u < STACK_SIZE for u in used)
        x = patch(3)
        assert device.client.read_output() == golden.invoke(x).tobytes()  # the output is valid


def test_measure_stack_needs_a_staged_input(image):
    with QemuLoader() as loader:
        with serial.serial_for_url(loader.start(image.path), timeout=10) as link:
            client = LinkClient(link)
            client.hello()
            with pytest.raises(DeviceError, match="0 of 48 bytes staged") as error:
                client.request(MessageType.MEASURE_STACK)
    assert error.value.code == ErrorCode.INPUT_INCOMPLETE
