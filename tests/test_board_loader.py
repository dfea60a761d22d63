"""Loading a real board through pyOCD: what is checked before anything is built or flashed, and
what a user without a board (or with the wrong probe, port or pack) is told.

No board is attached here, so pyOCD's probe discovery is real where it finds nothing; where a test
needs several probes or a busy one, it hands pyOCD's helper named fakes instead."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli import main
from harness.device.board import Board
from harness.device.loaders import LoadError, check_loadable, pyocd_board
from harness.errors import HilError
from harness.targets import load_target

pytest_plugins = ["pytester"]


@dataclass
class FakeProbe:
    """Stands for a connected pyOCD probe: only what the loader reads before opening it."""

    unique_id: str
    description: str = "STLINK-V3"


@pytest.fixture
def no_probe(monkeypatch):
    """pyOCD's probe discovery replaced by a fake that finds nothing, whatever is plugged in."""
    from pyocd.core.helpers import ConnectHelper

    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", staticmethod(lambda **_: []))


def u585(**options) -> Board:
    return Board(load_target("u585"), **options)


def test_without_a_board_every_missing_thing_is_said_at_once(no_probe):
    with pytest.raises(LoadError) as error:
        check_loadable(u585())
    message = str(error.value)
    assert message.startswith("cannot flash target u585: pyOCD finds no debug probe")
    assert "--port" in message
    assert "Keil.STM32U5xx_DFP" in message and "pyocd pack install stm32u585aiix" in message and "--pack" in message


def test_the_real_probe_discovery_finds_no_board_here_within_seconds():
    started = time.monotonic()
    with pytest.raises(LoadError, match="pyOCD finds no debug probe"):
        check_loadable(u585(port="/dev/ttyACM0"))
    assert time.monotonic() - started < 10


def test_several_probes_and_none_chosen_are_listed(monkeypatch):
    from pyocd.core.helpers import ConnectHelper

    fakes = [FakeProbe("0036003A3131510A33353535"), FakeProbe("004C00283132510933363939")]
    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", staticmethod(lambda **_: fakes))
    with pytest.raises(LoadError, match=r"2 debug probes are connected \(0036003A3131510A33353535 \(STLINK-V3\), "
                                        r"004C.*choose one with --probe UNIQUE_ID"):
        check_loadable(u585(port="/dev/ttyACM0"))


def test_a_chosen_probe_that_is_not_there_is_named(no_probe):
    with pytest.raises(LoadError, match="no debug probe whose unique ID contains '0036003A'"):
        check_loadable(u585(port="/dev/ttyACM0", probe="0036003A"))


@pytest.mark.parametrize("content, message", [
    (None, "--pack .*: no such file"),
    (b"not a zip", "not a readable CMSIS-Pack"),
])
def test_a_bad_pack_is_named(no_probe, tmp_path, content, message):
    pack = tmp_path / "Keil.STM32U5xx_DFP.pack"
    if content is not None:
        pack.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        check_loadable(u585(port="/dev/ttyACM0", pack=pack))


@pytest.mark.parametrize("options, message", [
    ({"loader": "exec"}, "--loader exec does not apply to target u585; it is loaded with: pyocd"),
    ({"probe": "0036"}, "--probe does not apply to target qemu-m33"),
    ({"pack": Path("x.pack")}, "--pack does not apply to target qemu-m33"),
    ({"reflash": True}, "--reflash does not apply to target qemu-m33"),
])
def test_board_options_are_refused_where_they_do_not_apply(options, message):
    target = "u585" if "loader" in options else "qemu-m33"
    with pytest.raises(HilError, match=message):
        Board(load_target(target), **options)


def test_an_emulator_may_be_loaded_through_pyocd():
    assert Board(load_target("qemu-m33"), loader="pyocd").load_method == "pyocd"
    assert Board(load_target("qemu-m33")).load_method == "qemu"


def test_hil_bench_without_a_board_says_so_in_one_line_and_exits_2(no_probe, capsys, tmp_path):
    started = time.monotonic()
    code = main(["bench", "--target", "u585", "--results-dir", str(tmp_path)])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 2 and elapsed < 10
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and lines[0].startswith("hil bench: error: cannot flash target u585: pyOCD finds no")
    assert "Traceback" not in err and not list(tmp_path.iterdir())


def test_pytest_without_a_board_stops_at_once_with_exit_code_2(pytester):
    pytester.makeconftest("""
import pytest
from pyocd.core.helpers import ConnectHelper

@pytest.fixture(autouse=True, scope="session")
def no_probe():
    real = ConnectHelper.__dict__["get_all_connected_probes"]
    ConnectHelper.get_all_connected_probes = staticmethod(lambda **_: [])
    yield
    ConnectHelper.get_all_connected_probes = real
""")
    pytester.makepyfile("""
def test_one(hil_device): pass
def test_two(hil_device): pass
""")
    result = pytester.runpytest("--target=u585", "--port=/dev/ttyACM0")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*Exit: hil: cannot flash target u585: pyOCD finds no debug probe*"])
    result.assert_outcomes()  # nothing ran: not one failure per test


def test_a_busy_probe_is_reported_with_what_to_close(monkeypatch, tmp_path):
    """The probe opens in pyOCD's Session; one held elsewhere raises ProbeError there."""
    from pyocd.core.exceptions import ProbeError

    class BusySession:  # a fake pyOCD Session whose probe another process holds
        def __init__(self, probe, options):
            pass

        def __enter__(self):
            raise ProbeError("LIBUSB_ERROR_BUSY")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr("pyocd.core.session.Session", BusySession)
    loader = pyocd_board.PyocdBoardLoader(u585(port="/dev/ttyACM0"), image=None)
    with pytest.raises(LoadError, match="the debug probe 0036 cannot be used: LIBUSB_ERROR_BUSY. If another program"):
        loader._program(FakeProbe("0036"), [], tmp_path / "firmware.elf")


@pytest.mark.parametrize("options, message", [
    ({"link_timeout": 0}, "--link-timeout must be positive"),
    ({"inference_timeout": -1.0}, "--inference-timeout must be positive"),
    ({"pack": Path("x.pack")}, "--pack does not apply to target qemu-m33: pyOCD knows the emulated chip"),
])
def test_an_emulator_on_a_shelf_gets_the_same_checks_as_any_board(options, message):
    with pytest.raises(HilError, match=message):
        Board(load_target("qemu-m33"), probe="qemu-gdb:127.0.0.1:1234", port="socket://127.0.0.1:4321", **options)
