"""The QEMU probe for pyOCD, against a real QEMU (mps2-an505) and the real pyOCD.

First the probe on its own, with a few instructions assembled here (a vector table and a loop
that counts in r0 and stores the count in RAM): memory, run control, core registers, reset, and
what a dead gdbstub does. Then the emulated board loaded the way a board is flashed: the
firmware for the example model, through QemuPyocdLoader, answers the handshake as built and
computes what the golden computes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import serial
from pyocd.core import exceptions
from pyocd.core.helpers import ConnectHelper
from pyocd.core.session import Session
from pyocd.core.target import Target

from harness.build.firmware import build_firmware
from harness.device.identity import verify_identity
from harness.device.link.protocol import LinkClient
from harness.device.loaders.base import LoadError
from harness.device.loaders.qemu import LOOPBACK, QemuLoader
from harness.device.loaders.qemu_pyocd import QemuPyocdLoader
from harness.device.pyocd.gdbremote import GdbRemote, GdbStubError
from harness.device.pyocd.mps2_an505 import register_target
from harness.device.pyocd.probe import QemuGdbProbe
from harness.device.pyocd.program import loadable_segments, program_image
from harness.parity.golden import GoldenModel
from harness.targets import load_target

COMPILER = "arm-none-eabi-gcc"
pytestmark = [
    pytest.mark.skipif(shutil.which(COMPILER) is None, reason=f"{COMPILER} is not installed "
                       "(sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None,
                       reason="qemu-system-arm is not installed (sudo apt-get install qemu-system-arm)"),
]

INITIAL_SP = 0x38001000
COUNTER = 0x38000000  # where the loop stores r0
ROM_TABLE_DATA = 0xE00FF100  # in the ROM table the probe serves (reads 0), outside the memory map
COUNTING_LOOP = f"""
    .syntax unified
    .thumb
    .text
    .word {INITIAL_SP:#x}
    .word reset
    .global reset
    .thumb_func
reset:
    ldr r1, ={COUNTER:#x}
    movs r0, #0
loop:
    adds r0, r0, #1
    str r0, [r1]
    b loop
    .section .in_rom_table, "a"
    .word 0xc0ffee01
"""
LOOP_START, LOOP_END = 0x1000000E, 0x10000014  # adds, str, b


def assemble(folder: Path, name: str, *link_options: str) -> Path:
    source = folder / f"{name}.S"
    source.write_text(COUNTING_LOOP)
    elf = folder / f"{name}.elf"
    subprocess.run([COMPILER, "-mcpu=cortex-m33", "-mthumb", "-nostdlib", "-Wl,-Ttext=0x10000000", "-Wl,-e,reset",
                    *link_options, str(source), "-o", str(elf)], check=True, capture_output=True)
    return elf


@pytest.fixture(scope="module")
def counting_loop(tmp_path_factory) -> Path:
    """The loop, linked for the emulated board (the unreferenced ROM-table word collected away)."""
    return assemble(tmp_path_factory.mktemp("loop"), "loop", "-Wl,--gc-sections")


@pytest.fixture(scope="module")
def rom_table_image(tmp_path_factory) -> Path:
    """The loop with one more word linked at ROM_TABLE_DATA: outside the target's memory map."""
    return assemble(tmp_path_factory.mktemp("rom"), "rom", f"-Wl,--section-start=.in_rom_table={ROM_TABLE_DATA:#x}")


@pytest.fixture
def emulator(counting_loop) -> Iterator[QemuLoader]:
    """QEMU halted with its gdbstub up: UART0 is held so that QEMU gets past waiting for it."""
    qemu = QemuLoader(gdb=True)
    qemu.start(counting_loop)
    try:
        with socket.create_connection((LOOPBACK, qemu.port)):
            yield qemu
    finally:
        qemu.stop()
    assert not qemu.running()


def open_session(qemu: QemuLoader, target: str | None = None) -> Session:
    """A session that leaves the core as it is on closing (not resumed into whatever memory holds)."""
    options = {"target_override": target or register_target(), "resume_on_disconnect": False}
    return Session(QemuGdbProbe(LOOPBACK, qemu.gdb_port), options=options)


@pytest.fixture
def session(emulator) -> Iterator[Session]:
    with open_session(emulator) as session:
        yield session


@pytest.fixture
def running_loop(session, counting_loop) -> Target:
    """The loop programmed with program_image, which leaves it running."""
    program_image(session, counting_loop)
    return session.target


def wait_for_count(target: Target, above: int) -> int:
    deadline = time.monotonic() + 5
    while (count := target.read32(COUNTER)) <= above:
        assert time.monotonic() < deadline, f"the loop did not count past {above} in 5 s"
        time.sleep(0.01)
    return count


# --- memory -------------------------------------------------------------------------------------


def test_what_is_written_reads_back(session):
    target = session.target
    target.write8(0x38000101, 0xA5)
    target.write16(0x38000102, 0xBEEF)
    target.write32(0x38000104, 0x12345678)
    assert target.read8(0x38000101) == 0xA5
    assert target.read16(0x38000102) == 0xBEEF
    assert target.read32(0x38000104) == 0x12345678
    assert target.read32(0x38000100) == 0xBEEFA500 | target.read8(0x38000100)  # the bytes landed in place
    block = np.random.default_rng(7).integers(0, 256, 6 * 1024 + 3, dtype=np.uint8).tobytes()
    target.write_memory_block8(0x10020001, block)  # unaligned, several packets long
    assert bytes(target.read_memory_block8(0x10020001, len(block))) == block
    words = [0x01020304 * i & 0xFFFFFFFF for i in range(1500)]
    target.write_memory_block32(0x38010000, words)
    assert list(target.read_memory_block32(0x38010000, len(words))) == words


def test_unmapped_memory_is_a_transfer_fault(session):
    with pytest.raises(exceptions.TransferFaultError, match="0x60000000"):
        session.target.read32(0x60000000)
    assert session.target.read32(0x38000000) is not None  # the session goes on


def test_discovery_finds_a_cortex_m33_behind_the_served_rom_table(session):
    core = session.target.selected_core
    assert core.name == "Cortex-M33"
    assert core.has_fpu
    assert session.target.read32(0xE000ED00) == 0x410FD213  # CPUID, from QEMU itself
    assert session.target.read32(0xE00FFFF4) == 0x10  # ROM table CIDR1: class 0x1, served by the probe
    # A block across registers of both kinds (CPUID from QEMU ... DHCSR, DEMCR from the probe).
    scb = list(session.target.read_memory_block32(0xE000ED00, 64))
    assert scb == [session.target.read32(0xE000ED00 + 4 * i) for i in range(64)]
    assert scb[0] == 0x410FD213 and scb[(0xEDF0 - 0xED00) // 4] & (1 << 17)  # CPUID; DHCSR.S_HALT


# --- run control and registers -----------------------------------------------------------------------


def test_halt_resume_and_step_move_the_pc(running_loop):
    target = running_loop
    count = wait_for_count(target, 1000)  # read while the core runs: the probe pauses QEMU for it
    assert target.get_state() == Target.State.RUNNING
    wait_for_count(target, count)  # and it runs on
    target.halt()
    assert target.get_state() == Target.State.HALTED
    assert target.get_halt_reason() == Target.HaltReason.DEBUG
    pc = target.read_core_register("pc")
    assert LOOP_START <= pc < LOOP_END
    halted_count = target.read32(COUNTER)
    time.sleep(0.1)
    assert target.read32(COUNTER) == halted_count  # halted means halted
    for _ in range(3):
        target.step()
        next_pc = target.read_core_register("pc")
        assert next_pc == (LOOP_START if pc == LOOP_END - 2 else pc + 2)  # 16-bit instructions; b loops back
        pc = next_pc
    target.resume()
    assert target.get_state() == Target.State.RUNNING
    wait_for_count(target, target.read32(COUNTER))


def test_core_registers_written_read_back(session):
    target = session.target
    values = {"r0": 0x01234567, "r7": 0x89ABCDEF, "r12": 0xFFFFFFFF, "lr": 0x10000009, "sp": 0x38000FF0}
    for name, value in values.items():
        target.write_core_register(name, value)
    for name, value in values.items():
        assert target.read_core_register(name) == value, name
    target.write_core_register("s3", -2.5)  # the high half of d1
    target.write_core_register("s2", 0.75)
    assert (target.read_core_register("s2"), target.read_core_register("s3")) == (0.75, -2.5)
    target.write_core_register("fpscr", 0x03C00000)
    assert target.read_core_register("fpscr") == 0x03C00000
    # QEMU 7.2's gdbstub has no MSP: the probe says so, pyOCD reports it unreadable.
    with pytest.raises(exceptions.CoreRegisterAccessError, match="msp"):
        target.read_core_register("msp")


def test_registers_of_a_running_core_are_refused(running_loop):
    with pytest.raises(exceptions.CoreRegisterAccessError, match="not halted"):
        running_loop.read_core_register("pc")


def reset_vector(image: Path) -> tuple[int, int]:
    """(initial SP, reset handler) from the image's vector table."""
    vectors = dict(loadable_segments(image))[0x10000000]
    return int.from_bytes(vectors[0:4], "little"), int.from_bytes(vectors[4:8], "little")


# SYSRESETREQ: the core writes AIRCR; NSRST: the probe's reset line (both QEMU's system_reset).
@pytest.mark.parametrize("kind", [Target.ResetType.SYSRESETREQ, Target.ResetType.NSRST], ids=lambda k: k.name)
def test_reset_returns_to_the_reset_vector(running_loop, counting_loop, kind):
    target = running_loop
    initial_sp, reset_handler = reset_vector(counting_loop)
    assert (initial_sp, reset_handler) == (INITIAL_SP, 0x10000009)
    wait_for_count(target, 1000)
    target.reset_and_halt(kind)  # DEMCR.VC_CORERESET, then the reset
    assert target.get_state() == Target.State.HALTED
    assert target.get_halt_reason() == Target.HaltReason.VECTOR_CATCH
    assert target.read_core_register("pc") == reset_handler & ~1
    assert target.read_core_register("sp") == initial_sp
    assert target.read_core_register("xpsr") & (1 << 24)  # Thumb, from the vector's bit 0
    target.write32(COUNTER, 0)
    target.reset(kind)  # without the catch the core runs from the vector
    wait_for_count(target, 0)


def test_connecting_under_reset_holds_the_core_on_its_reset_vector(emulator, counting_loop):
    with open_session(emulator) as session:
        program_image(session, counting_loop)
        wait_for_count(session.target, 1000)
    options = {"target_override": register_target(), "connect_mode": "under-reset"}
    with Session(QemuGdbProbe(LOOPBACK, emulator.gdb_port), options=options) as session:
        target = session.target
        assert target.get_state() == Target.State.HALTED
        assert target.read_core_register("pc") == reset_vector(counting_loop)[1] & ~1
        target.resume()
        wait_for_count(target, 1000)


# --- a dead gdbstub ---------------------------------------------------------------------------------


def test_an_absent_gdbstub_is_named():
    with socket.socket() as spare:
        spare.bind((LOOPBACK, 0))
        port = spare.getsockname()[1]  # bound, not listening: nothing answers there
        started = time.monotonic()
        with pytest.raises(GdbStubError, match=f"no gdbstub answers on 127.0.0.1:{port}.*-gdb tcp:127.0.0.1:{port}"):
            with Session(QemuGdbProbe(LOOPBACK, port), options={"target_override": register_target()}):
                pass
    assert time.monotonic() - started < 2


def test_qemu_killed_mid_session_is_named_within_seconds(emulator, running_loop):
    os.kill(emulator.pid, signal.SIGKILL)
    assert emulator.wait(5) == -signal.SIGKILL
    started = time.monotonic()
    with pytest.raises(GdbStubError, match=f"gdbstub on 127.0.0.1:{emulator.gdb_port} closed the connection"):
        running_loop.read32(COUNTER)
    assert time.monotonic() - started < 2
    with pytest.raises(GdbStubError, match="closed the connection"):  # and says so again, at once
        running_loop.halt()


def test_a_silent_gdbstub_times_out(emulator):
    stub = GdbRemote(LOOPBACK, emulator.gdb_port, timeout=1.0)
    stub.connect()
    os.kill(emulator.pid, signal.SIGSTOP)  # QEMU alive but answering nothing
    while Path(f"/proc/{emulator.pid}/stat").read_text().split(")")[-1].split()[0] != "T":
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(GdbStubError, match=f"127.0.0.1:{emulator.gdb_port} did not answer within 1 s"):
        stub.read_memory(COUNTER, 4)
    assert time.monotonic() - started < 3
    with pytest.raises(GdbStubError, match="did not answer"):  # and stays closed, saying why
        stub.read_memory(COUNTER, 4)


# --- pyOCD's own ways -----------------------------------------------------------------------------


def test_pyocd_finds_the_probe_by_its_unique_id(emulator, counting_loop):
    unique_id = f"qemu-gdb:127.0.0.1:{emulator.gdb_port}"
    session = ConnectHelper.session_with_chosen_probe(unique_id=unique_id, target_override="hil_mps2_an505",
                                                      blocking=False)
    assert session is not None, "pyOCD did not find the qemu-gdb probe: is the package installed (pip install -e .)?"
    with session:
        assert session.probe.unique_id == unique_id
        assert session.board.target_type == "hil_mps2_an505"
        assert session.target.selected_core.name == "Cortex-M33"
        program_image(session, counting_loop)
        wait_for_count(session.target, 1000)


def test_program_image_verifies_what_it_wrote(emulator, rom_table_image):
    # pyOCD skips data outside the target's memory map with only a warning; reading back finds it.
    with open_session(emulator) as session:
        with pytest.raises(LoadError, match=f"verifying rom.elf failed: the byte at {ROM_TABLE_DATA:#010x} reads "
                                            "0x00 after programming, the image has 0x01"):
            program_image(session, rom_table_image)


def test_program_image_refuses_an_image_with_nothing_to_load(emulator, tmp_path):
    empty = assemble(tmp_path, "empty", "-Wl,--gc-sections", "-Wl,-e,0")  # no entry: everything collected
    assert not loadable_segments(empty)
    with open_session(emulator) as session:
        with pytest.raises(LoadError, match="empty.elf has no loadable segment"):
            program_image(session, empty)


# --- the firmware, loaded as a board is flashed ----------------------------------------------------------


@pytest.fixture(scope="module")
def firmware(example_compiled):
    return build_firmware(example_compiled, load_target("qemu-m33"))


def test_firmware_loaded_through_pyocd_answers_as_built(firmware, example_model_path):
    with QemuPyocdLoader() as loader:
        url = loader.start(firmware.path)
        port = serial.serial_for_url(url, timeout=10)
        try:
            client = LinkClient(port)
            info = client.hello()
            verify_identity(info, firmware, url)
            assert info.build_id == firmware.build_id
            assert info.model_sha256 == firmware.model.graph.sha256
            x = np.random.default_rng(11).integers(-128, 128, (1, 8, 6, 1), dtype=np.int8)
            output, _ = client.run(x.tobytes())
            assert output == GoldenModel(example_model_path).invoke(x).tobytes()
        finally:
            port.close()
    assert not loader.qemu.running()
