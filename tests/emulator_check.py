"""Run a model on the emulated Cortex-M33 (qemu-m33: the firmware built for it, booted in QEMU,
inputs streamed over its UART) and demand the reference interpreter's bytes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.device.board import Board
from harness.device.session import open_device
from harness.parity.golden import GoldenModel
from harness.targets import load_target

needs_emulator = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
    reason="qemu-m33 needs arm-none-eabi-gcc and qemu-system-arm (sudo apt-get install gcc-arm-none-eabi "
    "libnewlib-arm-none-eabi qemu-system-arm)",
)


def assert_bit_exact_on_emulator(model: bytes, inputs: np.ndarray, name: str = "op_on_qemu") -> None:
    compiled = compile_graph(parse_model(model, f"{name}.tflite"), name)
    golden = GoldenModel(model).run(inputs)
    with open_device(compiled, Board(load_target("qemu-m33"))) as device:
        outputs = device.run(inputs).outputs
    assert outputs.dtype == golden.dtype and outputs.shape == golden.shape
    differ = np.argwhere(outputs != golden)
    assert differ.size == 0, (
        f"{len(differ)} of {golden.size} output values differ from the reference on qemu-m33; first at "
        f"{differ[0].tolist()}: device {outputs[tuple(differ[0])]} vs reference {golden[tuple(differ[0])]}"
    )
