"""The board loader's logic, with real pyOCD and a real (emulated) chip standing for the board.

PyocdBoardLoader flashes a board that keeps its image between runs. Here the "board" is QEMU's
mps2-an505 left running across loads, reached through the project's QEMU probe for pyOCD
(`qemu-gdb:127.0.0.1:PORT`), its UART socket playing the ST-LINK's virtual COM port: qemu-m33
"on a shelf", an emulator the harness did not start, loaded the way u585 is. So
flash-only-when-different, --reflash and "no handshake after flashing" run for real, without a
board."""

from __future__ import annotations

import pytest
import serial

from harness.build.firmware import build_firmware
from harness.compiler import compile_file
from harness.device.board import Board
from harness.device.identity import verify_identity
from harness.device.link.protocol import LinkClient
from harness.device.loaders import LoadError
from harness.device.loaders.pyocd_board import PyocdBoardLoader
from harness.device.loaders.qemu import QemuLoader
from harness.device.pyocd.mps2_an505 import TARGET_NAME, register_target
from harness.targets import load_target


@pytest.fixture(scope="module")
def image(example_compiled):
    return build_firmware(example_compiled, load_target("qemu-m33"))


@pytest.fixture
def emulated_board():
    """A QEMU that waits, halted and empty, for a debugger: the board on the shelf."""
    register_target()
    qemu = QemuLoader(gdb=True)
    url = qemu.start(qemu_placeholder())
    yield url, f"qemu-gdb:127.0.0.1:{qemu.gdb_port}"
    qemu.stop()


def qemu_placeholder():
    """QemuLoader checks that its image exists; with gdb it loads none, so any file will do."""
    from harness.paths import PROJECT_ROOT

    return PROJECT_ROOT / "README.md"


def board_for(url: str, probe: str, **options) -> Board:
    """qemu-m33 on a shelf: an emulator the harness did not start, named by its probe and its port."""
    board = Board(load_target("qemu-m33"), port=url, probe=probe, **options)
    assert board.on_shelf and board.load_method == "pyocd" and board.target.pyocd_target == TARGET_NAME
    return board


def handshake(url: str, image) -> None:
    with serial.serial_for_url(url, timeout=2) as link:
        verify_identity(LinkClient(link).hello(), image, url)


def test_a_board_is_flashed_once_then_found_running_the_image(emulated_board, image):
    url, probe = emulated_board
    first = PyocdBoardLoader(board_for(url, probe), image)
    assert first.start(image.path) == url
    assert first.flashed and first.flash_seconds is not None
    handshake(url, image)
    again = PyocdBoardLoader(board_for(url, probe), image)
    again.start(image.path)
    assert not again.flashed  # the handshake named this build and model: nothing to program
    forced = PyocdBoardLoader(board_for(url, probe, reflash=True), image)
    forced.start(image.path)
    assert forced.flashed
    handshake(url, image)


@pytest.fixture(scope="module")
def other_image(tmp_path_factory):
    """The firmware of another model: another model SHA-256 in its handshake."""
    from test_cli import conv_model

    path = tmp_path_factory.mktemp("other") / "conv.tflite"
    path.write_bytes(conv_model())
    return build_firmware(compile_file(path), load_target("qemu-m33"))


def test_a_board_running_another_image_is_flashed(emulated_board, image, other_image):
    url, probe = emulated_board
    PyocdBoardLoader(board_for(url, probe), image).start(image.path)
    other = other_image
    loader = PyocdBoardLoader(board_for(url, probe), other)
    loader.start(other.path)
    assert loader.flashed
    handshake(url, other)


def test_no_handshake_after_flashing_twice_is_reported(emulated_board, image, other_image):
    """An image whose handshake never matches what the harness built: flashed twice, then reported."""
    url, probe = emulated_board
    loader = PyocdBoardLoader(board_for(url, probe), other_image)
    with pytest.raises(LoadError, match=rf"no handshake from the firmware on {url} after flashing firmware.elf 2 "
                                        rf"times through probe {probe}"):
        loader.start(image.path)  # programs `image`, which answers as itself, not as `other_image`
