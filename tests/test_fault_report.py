"""The FAULT report end to end on the emulated Cortex-M33 (qemu-m33), and a board that did not start.

A test build of the firmware (-DHIL_TEST_FAULTS, app/commands.c) has one more request, 0x7E, that
divides by zero or reads an address nothing answers. The fault handler (firmware_stub/bsp/armv8m)
captures the fault, the application sends FAULT over the link, and the board stops: on QEMU with a
text report on the console and exit status 128 + the exception number. The harness's LinkClient,
waiting for the answer, raises DeviceFault. The production image has no such request.

A build with -DHIL_TEST_BOARD_FAILURE (bsp/mps2-an505/board.c) pretends that its board init failed
after the link came up: the firmware answers HELLO with ERROR 7 naming the failure.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.build.firmware import FirmwareImage, build_firmware
from harness.device.link.protocol import DeviceError, DeviceFault, ErrorCode, LinkClient
from harness.device.loaders.qemu import QemuLoader
from harness.targets import load_target

serial = pytest.importorskip("serial", reason="pyserial is needed to talk to the emulated board")

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed"),
]

USAGE_FAULT, BUS_FAULT = 6, 5
DIVBYZERO, PRECISERR = 1 << 25, 1 << 9
UNMAPPED = 0xF0000000  # nothing answers there on mps2-an505: a precise bus error
RAM = range(0x38000000, 0x38000000 + 768 * 1024)  # mps2-an505.ld


class FaultRequest(IntEnum):
    """The request only a -DHIL_TEST_FAULTS build knows (docs/protocol.md, "Test builds")."""

    FAULT_NOW = 0x7E


def build_with(model, flag: str) -> FirmwareImage:
    target = load_target("qemu-m33")
    return build_firmware(model, dataclasses.replace(target, cflags=(*target.cflags, flag)))


@pytest.fixture(scope="module")
def fault_image(example_compiled) -> FirmwareImage:
    return build_with(example_compiled, "-DHIL_TEST_FAULTS")


@contextmanager
def running(image: FirmwareImage) -> Iterator[tuple[QemuLoader, LinkClient]]:
    with QemuLoader() as loader:
        url = loader.start(image.path)
        port = serial.serial_for_url(url, timeout=1.0)
        try:
            yield loader, LinkClient(port, timeout=2.0, name=url)
        finally:
            port.close()


def symbol_range(elf_path: Path, name: str) -> range | None:
    """The addresses of a function of the image (Thumb bit cleared), None when it has no such symbol."""
    with open(elf_path, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if isinstance(section, SymbolTableSection):
                for symbol in section.get_symbol_by_name(name) or []:
                    start = symbol["st_value"] & ~1
                    return range(start, start + symbol["st_size"])
    return None


@pytest.mark.parametrize(
    ("kind", "address", "exception", "status", "words"),
    [
        (1, 0, USAGE_FAULT, DIVBYZERO, "UsageFault DIVBYZERO at pc="),
        (2, UNMAPPED, BUS_FAULT, PRECISERR, "BusFault PRECISERR at pc="),
    ],
)
def test_a_fault_reaches_the_harness_and_stops_the_emulator(fault_image, kind, address, exception, status, words):
    with running(fault_image) as (loader, client):
        assert client.hello().protocol_version == 4
        with pytest.raises(DeviceFault) as caught:
            client.request(FaultRequest.FAULT_NOW, struct.pack("<BI", kind, address))
        assert loader.wait(10) == 128 + exception
        console = loader.output()
    fault = caught.value
    assert (fault.exception, fault.cfsr & status, fault.hfsr) == (exception, status, 0)
    assert words in str(fault) and str(fault).startswith("the device faulted during FAULT_NOW (seq 1)")
    assert fault.pc in symbol_range(fault_image.path, "test_fault"), f"pc=0x{fault.pc:08x}"
    assert fault.sp in RAM and fault.exc_return >> 24 == 0xFF
    if exception == BUS_FAULT:
        assert fault.bfar == UNMAPPED and f"bfar=0x{UNMAPPED:08x}" in str(fault)
    else:
        assert "bfar=" not in str(fault)
    # QEMU's console still gets the text report, for whoever reads it.
    assert f"hil: fatal {fault.exception_name} (exception {exception})" in console, console


def test_the_production_image_has_no_fault_request(example_compiled):
    image = build_firmware(example_compiled, load_target("qemu-m33"))
    assert symbol_range(image.path, "test_fault") is None
    with running(image) as (loader, client):
        client.hello()
        with pytest.raises(DeviceError) as refused:
            client.request(FaultRequest.FAULT_NOW, struct.pack("<BI", 1, 0))
        assert loader.exit_code() is None
    assert (refused.value.code, refused.value.detail) == (ErrorCode.UNKNOWN_REQUEST, FaultRequest.FAULT_NOW)


def test_a_board_that_did_not_start_says_what_failed(example_compiled):
    image = build_with(example_compiled, "-DHIL_TEST_BOARD_FAILURE")
    with running(image) as (loader, client):
        with pytest.raises(DeviceError) as refused:
            client.hello()
        assert loader.exit_code() is None  # it keeps answering, where an exit code would be lost on a board
    assert refused.value.code == ErrorCode.BOARD_INIT_FAILED
    assert refused.value.detail == 5  # hil_status HIL_ERROR_TIMEOUT
    assert refused.value.device_message == (
        "board init failed: HIL_TEST_BOARD_FAILURE: this test build pretends that a ready flag never came"
    )
    assert "error 7 (board init failed)" in str(refused.value)


def fault(**fields: int) -> DeviceFault:
    order = ("exception", "pc", "lr", "xpsr", "sp", "exc_return", "cfsr", "hfsr", "sfsr", "mmfar", "bfar", "sfar")
    return DeviceFault("INFER (seq 3)", "socket://127.0.0.1:1", tuple(fields.get(name, 0) for name in order))


def test_the_message_names_the_exception_the_bits_and_where():
    escalated = fault(exception=3, pc=0x1000123A, lr=0x10001301, sp=0x380BFF58, xpsr=0x61000000,
                      exc_return=0xFFFFFFF9, cfsr=DIVBYZERO, hfsr=1 << 30)
    assert str(escalated) == (
        "the device faulted during INFER (seq 3) on socket://127.0.0.1:1: HardFault (FORCED), UsageFault DIVBYZERO "
        "at pc=0x1000123a lr=0x10001301 sp=0x380bff58 xpsr=0x61000000 exc_return=0xfffffff9"
    )
    assert (escalated.exception_name, escalated.pc, escalated.cfsr, escalated.hfsr) == ("HardFault", 0x1000123A,
                                                                                        DIVBYZERO, 1 << 30)
    overflow = fault(exception=6, pc=0xFFFFFFFF, lr=0xFFFFFFFF, xpsr=0xFFFFFFFF, sp=0x380BC000, cfsr=1 << 20)
    assert "UsageFault STKOF with no readable exception frame, sp=0x380bc000" in str(overflow)
    memory = fault(exception=4, cfsr=(1 << 1) | (1 << 7), mmfar=0x20)
    assert "MemManage DACCVIOL at pc=0x00000000" in str(memory) and "mmfar=0x00000020" in str(memory)
    assert fault(exception=16 + 61).exception_name == "unexpected interrupt 61"
