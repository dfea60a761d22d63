"""The mps2-an505 board support and the QEMU loader, on the emulator itself.

Builds tests/firmware/board_selftest.c against firmware_stub/bsp/mps2-an505 and the ARMv8-M code it
shares (firmware_stub/bsp/armv8m), runs it under QemuLoader and drives it over the link (pyserial
socket:// URL): echo, the instruction counter, startup (.data, .bss, FPU, stack paint), the stack
measurement, exit codes, fault reports; then the linker script's caps and the loader's errors.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.build.firmware import bsp_folders
from harness.build.sources import FIRMWARE_CFLAGS
from harness.device.loaders import LoadError
from harness.device.loaders import qemu as qemu_module
from harness.device.loaders.qemu import QemuLoader
from harness.paths import FIRMWARE_DIR, KERNELS_DIR, PROJECT_ROOT
from harness.targets import load_target

serial = pytest.importorskip("serial", reason="pyserial is needed to talk to the emulated board")

COMPILER = "arm-none-eabi-gcc"
pytestmark = [
    pytest.mark.skipif(
        shutil.which(COMPILER) is None,
        reason=f"{COMPILER} is not installed (sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)",
    ),
    pytest.mark.skipif(
        shutil.which("qemu-system-arm") is None,
        reason="qemu-system-arm is not installed (sudo apt-get install qemu-system-arm)",
    ),
]

TARGET = load_target("qemu-m33")
BSP_DIRS = bsp_folders(TARGET)  # the board's own folder, then the shared ARMv8-M one
LINKER_SCRIPT = BSP_DIRS[0] / "mps2-an505.ld"
SELFTEST = PROJECT_ROOT / "tests" / "firmware" / "board_selftest.c"
CFLAGS = (*FIRMWARE_CFLAGS, *TARGET.cflags)
LDFLAGS = ("--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", f"-T{LINKER_SCRIPT}",
           *(f"-L{folder}" for folder in BSP_DIRS[1:]))

BANNER = b"HIL-SELFTEST\n"
INSTRUCTIONS_PER_TICK = 50
COUNTER_INSTRUCTIONS, RESET_POWER_ON = 2, 1
HIL_ERROR_UNSUPPORTED = 3  # hil_types.h


def link_image(
    folder: Path, name: str, sources: list[Path], defines: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Compile and link `sources` with the board support; the ELF is folder/name.elf."""
    command = [
        COMPILER, *CFLAGS, *defines,
        "-I", str(KERNELS_DIR), "-I", str(FIRMWARE_DIR / "bsp"), *(f"-I{folder}" for folder in BSP_DIRS),
        *(str(source) for folder in BSP_DIRS for source in sorted(folder.glob("*.c"))), *map(str, sources),
        *LDFLAGS, f"-Wl,-Map={folder / (name + '.map')}", "-o", str(folder / f"{name}.elf"),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def build_image(folder: Path, name: str, sources: list[Path], defines: tuple[str, ...] = ()) -> Path:
    result = link_image(folder, name, sources, defines)
    assert result.returncode == 0, result.stderr
    return folder / f"{name}.elf"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("an505")


@pytest.fixture(scope="module")
def selftest(build_dir: Path) -> Path:
    return build_image(build_dir, "selftest", [SELFTEST])


@pytest.fixture(scope="module")
def selftest_fast_wrap(build_dir: Path) -> Path:
    """SysTick reloading every 2 ticks: the wrap handler runs every 100 instructions."""
    flags = ("-DAN505_SYSTICK_RELOAD=1u", "-DSELFTEST_CALIBRATE=0")
    return build_image(build_dir, "selftest_fast_wrap", [SELFTEST], flags)


class Board:
    """The self-test firmware's command set (see board_selftest.c)."""

    def __init__(self, loader: QemuLoader, link: serial.SerialBase) -> None:
        self.loader = loader
        self.link = link

    def read_exact(self, count: int) -> bytes:
        data = self.link.read(count)
        assert len(data) == count, f"got {data!r} of {count} bytes; QEMU said:\n{self.loader.output()}"
        return data

    def u32s(self, count: int) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read_exact(4 * count)))

    def command(self, code: bytes, *numbers: int, replies: int = 0) -> list[int]:
        self.link.write(code + b"".join(struct.pack("<I", n) for n in numbers))
        return self.u32s(replies)

    def loop_delta(self, iterations: int) -> int:
        return self.command(b"L", iterations, replies=1)[0]


@contextmanager
def running(image: Path) -> Iterator[Board]:
    with QemuLoader() as loader:
        url = loader.start(image)
        assert url.startswith("socket://127.0.0.1:")
        link = serial.serial_for_url(url, timeout=20)
        try:
            board = Board(loader, link)
            assert board.read_exact(len(BANNER)) == BANNER
            yield board
        finally:
            link.close()


def test_echo_round_trips_every_byte_value(selftest: Path) -> None:
    payload = bytes(range(256)) + bytes(reversed(range(256)))
    with running(selftest) as board:
        board.link.write(b"E" + struct.pack("<I", len(payload)) + payload)
        assert board.read_exact(len(payload)) == payload


def test_board_reports_instructions_power_on_and_no_rate(selftest: Path) -> None:
    with running(selftest) as board:
        unit, hz_status, hz, reset, high_water = board.command(b"I", replies=5)
    # Instructions have no rate: the board says so with a status, not with a 0 rate.
    assert (unit, hz_status, hz, reset) == (COUNTER_INSTRUCTIONS, HIL_ERROR_UNSUPPORTED, 0, RESET_POWER_ON)
    assert 0 < high_water < 1024


def test_counter_is_exact_and_repeatable(selftest: Path) -> None:
    """The boot-time calibration (a known loop measured before any host traffic) counts the same
    on every run, and each count is the loop's 2n instructions within one tick."""
    runs = []
    for _ in range(2):
        with running(selftest) as board:
            count = board.command(b"C", replies=1)[0]
            runs.append(board.u32s(2 * count))
    assert runs[0] == runs[1], "the same program counted differently on two runs"
    pairs = list(zip(runs[0][0::2], runs[0][1::2]))
    assert [n for n, _ in pairs] == [1, 25, 1_000, 1_000_000, 10_000_000]
    for n, delta in pairs:
        assert delta % INSTRUCTIONS_PER_TICK == 0
        # 2n loop instructions plus the ~25 of the counter reads themselves: within one tick.
        assert abs(delta - 2 * n) <= INSTRUCTIONS_PER_TICK, (n, delta)


def test_counter_within_one_tick_whenever_the_host_starts_it(selftest: Path) -> None:
    """A measurement started by a command begins at a host-timing-dependent phase of the tick,
    so only the one-tick bound holds, not run-to-run identity."""
    with running(selftest) as board:
        for n in (1, 25, 1_000, 1_000_000):
            for _ in range(3):
                delta = board.loop_delta(n)
                assert delta % INSTRUCTIONS_PER_TICK == 0
                assert abs(delta - 2 * n) <= INSTRUCTIONS_PER_TICK, (n, delta)


def test_counter_never_loses_or_repeats_a_wrap(selftest_fast_wrap: Path) -> None:
    with running(selftest_fast_wrap) as board:
        backwards, largest, smallest = board.command(b"M", 20_000, replies=3)
        delta = board.loop_delta(250_000)
    assert backwards == 0
    assert smallest >= 0 and largest <= 2 * INSTRUCTIONS_PER_TICK  # a repeated wrap would add 100
    # 5000 wraps, each adding the handler's few instructions; a lost wrap would remove 100.
    assert 500_000 <= delta <= 500_000 * 1.1


def test_emulation_speed(selftest: Path) -> None:
    """Prints host seconds per 1e8 guest instructions (a measurement, not a limit)."""
    with running(selftest) as board:
        pid = board.loader.pid
        assert pid is not None
        cpu_before = _process_cpu_seconds(pid)
        started = time.perf_counter()
        delta = board.loop_delta(50_000_000)
        wall = time.perf_counter() - started
        cpu = _process_cpu_seconds(pid) - cpu_before if cpu_before is not None else float("nan")
    assert abs(delta - 100_000_000) <= INSTRUCTIONS_PER_TICK
    print(f"\nQEMU mps2-an505, -icount shift=0: 1e8 guest instructions (subs/bne loop) "
          f"in {wall:.3f} s wall, {cpu:.3f} s QEMU CPU")


def _process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_startup_copies_data_zeroes_bss_enables_fpu(selftest: Path) -> None:
    with running(selftest) as board:
        first = board.command(b"D", replies=4)  # checks, then dirties .data and .bss
        board.link.write(b"R")  # back through the reset vector, without QEMU reloading the image
        assert board.read_exact(len(BANNER)) == BANNER
        data_ok, bss_zero, product_bits, word = board.command(b"D", replies=4)
    assert first[:2] == [1, 1]
    assert data_ok == 1, ".data was not copied from its load image"
    assert bss_zero == 1, ".bss was not zeroed"
    assert struct.unpack("<f", struct.pack("<I", product_bits))[0] == 4.5  # 1.5f * 3.0f on the FPU
    assert word == 0xCAFEF00D


def test_stack_high_water_follows_use(selftest: Path) -> None:
    with running(selftest) as board:
        before = board.command(b"I", replies=5)[4]
        after = board.command(b"S", 4096, replies=1)[0]
        again = board.command(b"I", replies=5)[4]
    assert before < 1024
    assert 4096 <= after < 16 * 1024
    assert again == after  # a high-water mark never goes down


def test_stack_mark_measures_the_use_below_the_caller(selftest: Path) -> None:
    """hil_board_stack_mark paints below its caller; hil_board_stack_used counts from there,
    exactly: nothing when nothing ran, and a second mark forgets a deeper earlier use."""
    with running(selftest) as board:
        idle = board.command(b"K", 0, replies=4)
        deep = board.command(b"K", 4096, replies=4)
        shallow = board.command(b"K", 256, replies=4)
        again = board.command(b"K", 4096, replies=4)
    for marked, measured, _, size in (idle, deep, shallow, again):
        assert (marked, measured, size) == (0, 0, 16 * 1024)  # HIL_OK, HIL_OK, the .stack section
    assert idle[2] == 0  # the measuring itself writes nothing below the mark
    assert 4096 <= deep[2] < 4096 + 512  # 16 frames of 256 bytes plus their few saved registers
    assert 256 <= shallow[2] < 512
    assert again == deep  # the same work measures the same


def test_exit_code_reaches_the_loader(selftest: Path) -> None:
    with running(selftest) as board:
        assert board.loader.exit_code() is None
        board.link.write(b"X\x03")
        assert board.loader.wait(10) == 3
        assert board.loader.exit_code() == 3


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        (b"u", 134, ("UsageFault", "UNDEFINSTR")),
        (b"b", 133, ("BusFault", "PRECISERR", "bfar=0xf0000000")),
        (b"s", 134, ("UsageFault", "STKOF(stack overflow)")),
    ],
)
def test_fault_reports_and_exits_instead_of_hanging(
    selftest: Path, kind: bytes, code: int, words: tuple[str, ...]
) -> None:
    with running(selftest) as board:
        board.link.write(b"F" + kind)
        # The application's report over the link, from inside the fault handler, comes first.
        assert board.read_exact(6) == b"FAULT" + bytes([code - 128])
        assert board.loader.wait(10) == code
        output = board.loader.output()
    for word in words:
        assert word in output, output


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("static volatile unsigned char big[1024 * 1024];", "region `RAM' overflowed by"),
        # Fits 768 KB on its own, but not beside the 16 KB stack reserved at the top.
        ("static volatile unsigned char big[760 * 1024];", "region `RAM' overflowed by 8"),
        ("static const unsigned char big[3 * 1024 * 1024] = {1};", "region `FLASH' overflowed by"),
        ('static const unsigned char big[2048 * 1024] __attribute__((section(".hil_weights"))) = {1};',
         "region `FLASH' overflowed by"),
    ],
)
def test_image_too_large_for_the_u585_fails_to_link(build_dir: Path, declaration: str, message: str) -> None:
    source = build_dir / "too_large.c"
    source.write_text(
        f"{declaration}\nvolatile int index_;\nint main(void) {{ return big[index_]; }}\n"
    )
    result = link_image(build_dir, "too_large", [source])
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_loader_needs_the_image(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="does not exist; build it first"):
        QemuLoader().start(tmp_path / "missing.elf")


def test_loader_says_how_to_install_qemu(tmp_path: Path, selftest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LoadError, match=r"qemu-system-arm is not installed.*sudo apt-get install qemu-system-arm"):
        QemuLoader().start(selftest)


def test_loader_reports_qemu_exiting_at_start(selftest: Path) -> None:
    loader = QemuLoader(machine="no-such-board")
    with pytest.raises(LoadError, match=r"(?s)QEMU exited with status 1 while starting selftest\.elf.*no-such-board"):
        loader.start(selftest)
    assert not loader.running()


def test_loader_times_out_when_the_socket_never_listens(tmp_path: Path, selftest: Path) -> None:
    silent = tmp_path / "qemu-system-arm"
    silent.write_text("#!/bin/sh\nexec sleep 30\n")
    silent.chmod(0o755)
    loader = QemuLoader(qemu=str(silent), start_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(LoadError, match=r"did not start listening within 0\.5 s"):
        loader.start(selftest)
    assert time.monotonic() - started < 5
    assert not loader.running()  # the stuck process was stopped


def test_loader_retries_a_busy_port(selftest: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        busy = squatter.getsockname()[1]
        ports = iter([busy])
        real = qemu_module._free_loopback_port
        monkeypatch.setattr(qemu_module, "_free_loopback_port", lambda: next(ports, None) or real())
        with QemuLoader() as loader:
            url = loader.start(selftest)
            assert url != f"socket://127.0.0.1:{busy}"
            link = serial.serial_for_url(url, timeout=20)
            assert link.read(len(BANNER)) == BANNER
            link.close()


def test_stop_is_idempotent_and_not_an_exit_code(selftest: Path) -> None:
    loader = QemuLoader()
    loader.start(selftest)
    assert loader.running()
    loader.stop()
    loader.stop()
    assert not loader.running()
    assert loader.exit_code() is None  # stopped by the loader, not by the firmware
