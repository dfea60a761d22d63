"""Farms on one host: the hardware map, a lock per board, `hil boards`, and pytest-xdist workers each
on a board of their own.

No board is attached here. The boards are emulators on a shelf (QEMUs started halted with their
gdbstubs, flashed through real pyOCD as a board is), host-target entries where only the locking
matters, and, for `hil boards scan`, named fakes standing for pyOCD's and pyserial's discovery.
pytest-xdist, QEMU and pyOCD are real; every process a test starts ends with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial
import yaml

from harness.cli import main
from harness.device.board import Board
from harness.device.link.protocol import LinkClient
from harness.device.loaders.qemu import QemuLoader
from harness.errors import HilError
from harness.farm import locks
from harness.farm.claim import claim_board
from harness.farm.hardware_map import SCHEMA_PATH, load_hardware_map
from harness.farm.scan import propose
from harness.paths import PROJECT_ROOT
from harness.targets import load_target

pytest_plugins = ["pytester"]

HIL_SUITE = PROJECT_ROOT / "tests" / "hil"
PYTEST_TIMEOUT_S = 600


@pytest.fixture(autouse=True)
def lock_folder(tmp_path, monkeypatch) -> Path:
    """Every test's locks in a folder of its own, so no test contends with a real run on this host."""
    folder = tmp_path / "locks"
    monkeypatch.setenv(locks.LOCK_DIR_ENV, str(folder))
    return folder


def write_map(folder: Path, text: str, name: str = "lab.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- the map: its schema, and each refusal -------------------------------------------------------


LAB = """\
- id: u585-a
  target: u585
  probe: 0036003A3131510A33353535
  port: /dev/serial/by-id/usb-STMicroelectronics_STLINK-V3_0036003A3131510A33353535-if02
  pack: packs/Keil.STM32U5xx_DFP.2.1.0.pack
  notes: the one by the window
- id: u585-b
  target: u585
  probe: 004C00283132510933363939
  port: rfc2217://lab-pi:4001
  baud: 460800
- id: shelf-1
  target: qemu-m33
  probe: qemu-gdb:127.0.0.1:1234
  port: socket://127.0.0.1:4321
- id: sim-1
  target: qemu-m33
- id: native
  target: host
"""


def test_the_schema_is_a_valid_json_schema_shipped_with_the_package():
    import json

    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert SCHEMA_PATH.parent == PROJECT_ROOT / "harness" / "farm"
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert '"harness.farm" = ["*.json"]' in pyproject


def test_each_entry_becomes_a_board_record(tmp_path):
    (tmp_path / "packs").mkdir()
    pack = tmp_path / "packs" / "Keil.STM32U5xx_DFP.2.1.0.pack"
    pack.write_bytes(b"a pack")
    lab = load_hardware_map(write_map(tmp_path, LAB))
    assert [e.id for e in lab.entries] == ["u585-a", "u585-b", "shelf-1", "sim-1", "native"]
    assert [e.id for e in lab.of_target("u585")] == ["u585-a", "u585-b"]

    a, b, shelf, sim, native = (e.board() for e in lab.entries)
    assert (a.target.id, a.probe, a.pack, a.link_baud) == ("u585", "0036003A3131510A33353535", pack.resolve(), 921600)
    assert a.port.endswith("0036003A3131510A33353535-if02") and a.is_flashed
    assert (b.port, b.link_baud, b.pack) == ("rfc2217://lab-pi:4001", 460800, None)
    assert shelf.on_shelf and shelf.load_method == "pyocd" and shelf.port == "socket://127.0.0.1:4321"
    assert not sim.on_shelf and sim.load_method == "qemu"
    assert native.load_method == "exec"


def test_the_other_options_of_the_run_reach_the_board_of_the_map(tmp_path):
    lab = load_hardware_map(write_map(tmp_path, "- {id: shelf-1, target: qemu-m33, probe: 'qemu-gdb:127.0.0.1:1',"
                                                " port: 'socket://127.0.0.1:2'}\n"))
    options = Board(load_target("qemu-m33"), link_timeout=2.5, inference_timeout=9.0, reflash=False)
    with claim_board(lab, options, holder="test", wait=0) as claimed:
        board = claimed.board
    assert (board.link_timeout, board.inference_timeout, board.probe) == (2.5, 9.0, "qemu-gdb:127.0.0.1:1")


def test_check_accepts_a_good_map_and_says_what_is_in_it(capsys, tmp_path):
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "Keil.STM32U5xx_DFP.2.1.0.pack").write_bytes(b"a pack")
    path = write_map(tmp_path, LAB)
    code, out, err = run_cli(capsys, "boards", "check", path)
    assert (code, err) == (0, "")
    assert out == f"{path}: 5 boards: u585-a, u585-b (u585); shelf-1, sim-1 (qemu-m33); native (host)\n"


U585 = "  target: u585\n  probe: P1\n  port: /dev/ttyACM0\n"


@pytest.mark.parametrize("text, message", [
    ("- id: a\n  target: nrf52\n",
     "entry 0 (id a): field 'target': unknown target 'nrf52'; known targets: host, qemu-m33, u585"),
    (f"- id: a\n{U585}- id: a\n  target: u585\n  probe: P2\n  port: /dev/ttyACM1\n",
     "entry 1 (id a): field 'id': entry 0 (id a) has it too ('a'); each board has its own id"),
    (f"- id: a\n{U585}- id: b\n  target: u585\n  probe: p1\n  port: /dev/ttyACM1\n",
     "entry 1 (id b): field 'probe': entry 0 (id a) has it too ('p1'); each board has its own probe"),
    (f"- id: a\n{U585}- id: b\n  target: u585\n  probe: P2\n  port: /dev/ttyACM0\n",
     "entry 1 (id b): field 'port': entry 0 (id a) has it too ('/dev/ttyACM0'); each board has its own port"),
    (f"- id: a\n{U585}  pack: packs/missing.pack\n", "entry 0 (id a): field 'pack': no such file: "),
    ("- id: a\n  target: host\n  port: /dev/ttyACM0\n",
     "entry 0 (id a): field 'port': target host cannot use it: the harness starts it itself"),
    ("- id: a\n  target: qemu-m33\n  probe: 'qemu-gdb:127.0.0.1:1'\n  port: 'socket://127.0.0.1:2'\n  baud: 115200\n",
     "entry 0 (id a): field 'baud': target qemu-m33 cannot use it: its link is a socket, which has no baud rate"),
    ("- id: a\n  target: qemu-m33\n  pack: x.pack\n",
     "entry 0 (id a): field 'pack': target qemu-m33 cannot use it: pyOCD knows its chip (hil_mps2_an505)"),
    ("- id: a\n  target: qemu-m33\n  probe: 'qemu-gdb:127.0.0.1:1'\n",
     "entry 0 (id a): field 'port': missing: a qemu-m33 entry with a probe is an emulator on a shelf"),
    ("- id: a\n  target: u585\n  port: /dev/ttyACM0\n",
     "entry 0 (id a): field 'probe': missing: a u585 board is flashed through its debug probe"),
    ("- id: a\n  target: u585\n  probe: P1\n", "entry 0 (id a): field 'port': missing: a u585 board is reached"),
    ("- id: a\n  target: host\n  serial: x\n",
     "entry 0 (id a): field 'serial' is unknown; the fields are id, target, probe, port, baud, pack, "
     "labgrid_place, notes"),
    (f"- id: a\n{U585}  baud: fast\n", "entry 0 (id a): field 'baud': 'fast' is not of type 'integer'"),
    ("- id: a/b\n  target: host\n", "entry 0 (id a/b): field 'id': 'a/b' does not match"),
    ("- id: a\n  target: host\n- target: host\n", "entry 1: 'id' is a required property"),
    ("- just a string\n", "entry 0: expected the fields of a board (id, target, ...), got 'just a string'"),
    ("boards:\n  - id: a\n", "not a hardware map: expected a list of boards, one per board, got a dict"),
    ("", "no boards; a hardware map is a list of boards"),
    ("- id: a\n  target: [host\n", "not valid YAML at line 3, column 1"),
])
def test_check_refuses_a_wrong_map_in_one_line_naming_entry_and_field(capsys, tmp_path, text, message):
    path = write_map(tmp_path, text)
    code, out, err = run_cli(capsys, "boards", "check", path)
    assert code == 2 and out == ""
    assert err.startswith(f"hil boards: error: {path}: {message}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_check_of_a_missing_file_says_how_to_get_one(capsys, tmp_path):
    code, _, err = run_cli(capsys, "boards", "check", tmp_path / "lab.yaml")
    assert code == 2 and "lab.yaml: no such file (a hardware map: `hil boards scan` proposes one)" in err


# --- locks ----------------------------------------------------------------------------------------


HOLDER = """
import sys
from harness.farm.locks import try_lock
lock = try_lock(sys.argv[1], "another run")
print("held" if lock else "taken", flush=True)
sys.stdin.read()  # hold it until told
"""


@pytest.fixture
def other_process():
    """Start a process that takes a board's lock and keeps it until it ends; ended with the test."""
    started = []

    def start(board_id: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLDER, board_id], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout.readline().strip() == "held"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()


def test_a_board_held_by_another_process_is_not_taken_and_says_by_whom(other_process, lock_folder):
    holder = other_process("u585-a")
    assert locks.try_lock("u585-a", "this test") is None
    assert locks.holder_of("u585-a").startswith(f"another run (pid {holder.pid} on {socket.gethostname()}, since ")
    assert (lock_folder / "u585-a.lock").is_file()
    started = time.monotonic()
    assert locks.lock_one_of(["u585-a"], "this test", wait=0.5) is None
    assert 0.5 <= time.monotonic() - started < 2
    with locks.lock_one_of(["u585-a", "u585-b"], "this test", wait=0) as lock:
        assert lock.board_id == "u585-b"  # the first free one


def test_a_board_is_free_again_when_its_holder_dies_however_it_dies(other_process):
    holder = other_process("u585-a")
    os.kill(holder.pid, signal.SIGKILL)  # no release, no clean-up: the kernel drops the lock
    holder.wait()
    with locks.lock_one_of(["u585-a"], "this test", wait=5) as lock:
        assert lock.held
        assert locks.holder_of("u585-a").startswith(f"this test (pid {os.getpid()}")
    assert not lock.held


def test_two_holders_in_one_process_contend_too():
    """flock belongs to the open file, not the process: two workers in one process exclude each other."""
    first = locks.try_lock("b", "first")
    assert first is not None and locks.try_lock("b", "second") is None
    first.release()
    first.release()  # twice is harmless
    second = locks.try_lock("b", "second")
    assert second is not None
    second.release()


def test_the_lock_folder_is_hil_lock_dir_else_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(locks.LOCK_DIR_ENV, str(tmp_path / "lab" / "locks"))
    assert locks.lock_dir() == tmp_path / "lab" / "locks" and (tmp_path / "lab" / "locks").is_dir()
    monkeypatch.delenv(locks.LOCK_DIR_ENV)
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))
    assert locks.lock_dir() == tmp_path / "cache" / "locks"


def test_a_board_held_elsewhere_is_waited_for_then_reported(other_process, tmp_path):
    other_process("shelf-1")
    lab = load_hardware_map(write_map(tmp_path, "- {id: shelf-1, target: qemu-m33, probe: 'qemu-gdb:127.0.0.1:1',"
                                                " port: 'socket://127.0.0.1:2'}\n"))
    with pytest.raises(HilError, match=r"no free qemu-m33 board in .*lab.yaml after waiting 0.3 s: shelf-1 is held "
                                       r"by another run \(pid \d+ on .*\)\. Wait for them to be free, add boards"):
        claim_board(lab, Board(load_target("qemu-m33")), holder="test", wait=0.3)


# --- hil boards scan, with named fakes for pyOCD's and pyserial's discovery ------------------------------


@dataclass
class FakeBoardInfo:
    """pyOCD's BoardInfo of a probe whose board it recognizes (from its board ID)."""

    name: str
    target: str


@dataclass
class FakeProbe:
    """Stands for a connected pyOCD probe: what `hil boards scan` reads of one."""

    unique_id: str
    description: str = "STLINK-V3"
    associated_board_info: FakeBoardInfo | None = None


@dataclass
class FakePort:
    """Stands for a pyserial ListPortInfo."""

    device: str
    serial_number: str | None
    description: str = "STLINK-V3 - ST-Link VCP Data"


U585_INFO = FakeBoardInfo("B-U585I-IOT02A", "stm32u585aiix")


@pytest.fixture
def connected(monkeypatch, tmp_path):
    """Replace pyOCD's probe discovery and pyserial's port listing with fakes listing what is given
    (and this host's /dev/serial/by-id with an empty folder)."""
    from pyocd.core.helpers import ConnectHelper

    monkeypatch.setattr("harness.farm.scan.BY_ID_DIR", tmp_path / "no-by-id")

    def connect(probes, ports):
        monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", staticmethod(lambda **_: list(probes)))
        monkeypatch.setattr("serial.tools.list_ports.comports", lambda *_, **__: list(ports))

    return connect


def test_scan_pairs_each_probe_with_its_virtual_com_port_by_usb_serial_number(capsys, connected, tmp_path):
    connected(
        [FakeProbe("004C00283132510933363939", associated_board_info=U585_INFO),
         FakeProbe("0036003A3131510A33353535", associated_board_info=U585_INFO)],
        [FakePort("/dev/ttyACM0", "0036003a3131510a33353535"),  # listed in another order than the probes
         FakePort("/dev/ttyUSB0", "A10KXYZ", "FT232R USB UART"),
         FakePort("/dev/ttyACM1", "004C00283132510933363939")],
    )
    code, out, err = run_cli(capsys, "boards", "scan")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out) == [
        {"id": "u585-353535", "target": "u585", "probe": "0036003A3131510A33353535", "port": "/dev/ttyACM0"},
        {"id": "u585-363939", "target": "u585", "probe": "004C00283132510933363939", "port": "/dev/ttyACM1"},
    ]
    assert "# serial port /dev/ttyUSB0 (FT232R USB UART) has no probe with its USB serial number; left out" in out
    assert "# u585 boards: add `pack: FILE` (the Keil.STM32U5xx_DFP .pack) to each" in out
    proposed = write_map(tmp_path, out)
    assert run_cli(capsys, "boards", "check", proposed)[0] == 0  # what scan proposes, check accepts


def test_scan_leaves_what_it_cannot_know_for_the_user_to_fill_in(capsys, connected):
    connected([FakeProbe("066DFF555185754867132128", "STM32 STLink")], [])
    code, out, _ = run_cli(capsys, "boards", "scan")
    assert code == 0
    assert yaml.safe_load(out) == [{"id": "board-132128", "target": None, "probe": "066DFF555185754867132128"}]
    assert "pyOCD does not say which chip is behind it; set its target (boards hil flashes: u585)" in out
    assert "no serial port has its USB serial number; add the board's port" in out
    code, out, _ = run_cli(capsys, "boards", "scan", "--target", "u585")
    assert yaml.safe_load(out)[0]["target"] == "u585"


def test_scan_names_a_port_by_its_stable_by_id_link(tmp_path):
    device = tmp_path / "ttyACM3"
    device.touch()
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    link = by_id / "usb-STMicroelectronics_STLINK-V3_0036003A3131510A33353535-if02"
    link.symlink_to(device)
    proposal = propose([FakeProbe("0036003A3131510A33353535", associated_board_info=U585_INFO)],
                       [FakePort(str(device), "0036003A3131510A33353535")], by_id=by_id)
    assert proposal.entries[0]["port"] == str(link)


def test_scan_with_nothing_connected_says_so(capsys, connected):
    connected([], [FakePort("/dev/ttyS0", None, "n/a")])
    code, out, err = run_cli(capsys, "boards", "scan")
    assert code == 1 and out == ""
    assert err.startswith("hil boards scan: no debug probe is connected (pyOCD lists none), so there is no board to "
                          "propose; serial ports: /dev/ttyS0.")


def test_scan_of_an_unknown_target_is_refused_before_scanning(capsys):
    code, _, err = run_cli(capsys, "boards", "scan", "--target", "nrf52")
    assert code == 2 and "unknown target 'nrf52'" in err


# --- hil bench --hardware-map / --board -------------------------------------------------------------------


HOSTS = "- id: h1\n  target: host\n- id: h2\n  target: host\n"


@pytest.mark.parametrize("argv, message", [
    (["--board", "h1"], "--board h1 needs --hardware-map FILE: the map says where that board is"),
    (["--hardware-map", "{lab}", "--board", "h9"], "--board h9: {lab} has no board of that id; its boards: h1, h2"),
    (["--hardware-map", "{lab}", "--target", "host", "--port", "/dev/ttyACM0"],
     "--port does not go with --hardware-map: the map names each board's own; drop --port, or put it in the map"),
    (["--hardware-map", "{lab}", "--board", "h1", "--target", "qemu-m33"],
     "--board h1 is a host board (entry 0 of {lab}), not a qemu-m33 one"),
    (["--hardware-map", "{lab}"], "{lab} has no board of target qemu-m33; its boards are of: host"),
    (["--hardware-map", "{lab}", "--target", "host", "--board-wait", "-1"],
     "--board-wait must not be negative (got -1)"),
])
def test_bench_refuses_a_wrong_board_in_one_line(capsys, tmp_path, argv, message):
    lab = write_map(tmp_path, HOSTS)
    argv = [a.format(lab=lab) for a in argv]
    code, _, err = run_cli(capsys, "bench", *argv, "--results-dir", tmp_path)
    assert code == 2
    assert err == f"hil bench: error: {message.format(lab=lab)}\n"


def test_bench_runs_on_the_board_of_the_map_and_holds_it_meanwhile(capsys, tmp_path, example_model_path, monkeypatch):
    from harness import bench as bench_module

    lab = write_map(tmp_path, HOSTS)
    seen = {}
    real_bench = bench_module.bench

    def bench_noting_the_lock(options, console):  # the real bench; notes who holds h2 meanwhile
        seen["holder"] = locks.holder_of("h2")
        seen["free"] = locks.try_lock("h2", "test") is not None
        return real_bench(options, console)

    monkeypatch.setattr(bench_module, "bench", bench_noting_the_lock)
    code, out, err = run_cli(capsys, "bench", "--hardware-map", lab, "--board", "h2", "--model", example_model_path,
                             "--patches", 3, "--timing-runs", 1, "--results-dir", tmp_path / "results")
    assert code == 0, err
    assert f"hil bench: on board h2 (entry 1 of {lab})" in err
    assert seen["free"] is False and seen["holder"].startswith(f"hil bench (pid {os.getpid()}")
    assert "3/3 patches bit-exact" in out
    lock = locks.try_lock("h2", "test")  # released when the bench ended
    assert lock is not None
    lock.release()


# --- pytest: workers on boards of the map, and emulators of their own -----------------------------------


@pytest.fixture
def shelf():
    """Emulators on a shelf: QEMUs a lab host started, halted and empty, each reached through its gdbstub
    (the probe) and its UART socket (the port), as boards are. Stopped at the end of the test."""
    started: list[QemuLoader] = []

    def start() -> tuple[str, str]:
        qemu = QemuLoader(gdb=True)
        started.append(qemu)
        url = qemu.start(PROJECT_ROOT / "README.md")  # with gdb QEMU loads no image: any file will do
        return f"qemu-gdb:127.0.0.1:{qemu.gdb_port}", url

    yield start
    for qemu in started:
        qemu.stop()


def shelf_entry(board_id: str, probe: str, port: str) -> str:
    return f"- id: {board_id}\n  target: qemu-m33\n  probe: '{probe}'\n  port: '{port}'\n"


def running_model(url: str) -> tuple[str, str]:
    """The target and model SHA-256 the firmware on a shelf's port says it runs."""
    with serial.serial_for_url(url, timeout=2) as link:
        info = LinkClient(link, name=url).hello()
    return info.target, info.model_sha256


def holders(lock_folder: Path) -> dict[str, str]:
    """Board id -> the worker that held it last, from the lock files."""
    return {path.stem: path.read_text().split(" (pid ")[0] for path in sorted(lock_folder.glob("*.lock"))}


def xdist_run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "xdist", "-p", "no:cacheprovider", *map(str, args),
                                         timeout=PYTEST_TIMEOUT_S)


def test_two_workers_take_two_boards_of_the_map_and_the_hil_suite_passes(
        pytester, shelf, tmp_path, lock_folder, example_model_path, example_compiled):
    (probe_a, port_a), (probe_b, port_b) = shelf(), shelf()
    lab = write_map(tmp_path, shelf_entry("shelf-a", probe_a, port_a) + shelf_entry("shelf-b", probe_b, port_b))
    result = xdist_run(pytester, HIL_SUITE, "-n", 2, "--target=qemu-m33", f"--hardware-map={lab}",
                       f"--model={example_model_path}", "--patches=8", f"--results-dir={tmp_path / 'results'}")
    result.assert_outcomes(passed=5)
    held = holders(lock_folder)  # who took each board: one worker each
    assert set(held) == {"shelf-a", "shelf-b"}
    assert sorted(held.values()) == ["pytest worker gw0", "pytest worker gw1"]
    # Each was flashed through pyOCD with the example's firmware by the worker that held it.
    for port in (port_a, port_b):
        assert running_model(port) == ("qemu-m33", example_compiled.graph.sha256)


BROKEN_SUITE = """
def test_runs(hil_device, hil_patches, hil_golden):
    assert hil_device.run(hil_patches).outputs.tobytes() == hil_golden.tobytes()

def test_times(hil_device, hil_patches):
    assert min(hil_device.time(hil_patches[-1], 1).totals) > 0
"""


@pytest.fixture
def dead_board():
    """A board that cannot be flashed: no gdbstub answers its probe, and its port is a silent socket
    that counts the connections made to it (how often the harness tried the board)."""
    listener = socket.create_server(("127.0.0.1", 0))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        probe = f"qemu-gdb:127.0.0.1:{unused.getsockname()[1]}"
    tries: list[socket.socket] = []
    done = threading.Event()
    accepting = threading.Thread(target=_accept, args=(listener, tries, done))
    accepting.start()
    yield probe, f"socket://127.0.0.1:{listener.getsockname()[1]}", tries
    done.set()
    accepting.join()
    listener.close()
    for connection in tries:
        connection.close()


def _accept(listener: socket.socket, tries: list, done: threading.Event) -> None:
    listener.settimeout(0.1)
    while not done.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        tries.append(connection)


def test_a_broken_board_fails_its_own_tests_at_once_and_the_other_worker_goes_on(
        pytester, shelf, dead_board, tmp_path, example_model_path):
    from test_cli import conv_model

    other_model = tmp_path / "conv.tflite"
    other_model.write_bytes(conv_model())
    probe, port = shelf()
    dead_probe, dead_port, tries = dead_board
    lab = write_map(tmp_path, shelf_entry("shelf-live", probe, port) + shelf_entry("shelf-dead", dead_probe, dead_port))
    pytester.makepyfile(test_suite=BROKEN_SUITE)
    # --dist=each: both workers run every test (2 tests x 2 models), so each board meets both models.
    result = xdist_run(pytester, "-n", 2, "--dist=each", "--target=qemu-m33", f"--hardware-map={lab}",
                       f"--model={example_model_path}", f"--model={other_model}", "--patches=4", "-rE")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # not stopped: the run went on
    result.assert_outcomes(passed=4, errors=4)  # the live board's worker passed everything
    errors = [line for line in result.stdout.lines if line.startswith("ERROR ")]
    assert len(errors) == 4 and all("Failed: board shelf-dead is broken" in line for line in errors)
    result.stdout.fnmatch_lines(["board shelf-dead is broken: no gdbstub answers on 127.0.0.1:*"] * 4)
    assert len(tries) == 1  # tried once; its other tests, of both models, failed without trying again


SMALL_SUITE = """
import os

import pytest

@pytest.mark.parametrize("n", range(4))
def test_runs_on_its_own_emulator(n, hil_running, hil_device, hil_patches, hil_golden, hil_results_folder):
    with open({out!r}, "a") as out:
        out.write(f"{{os.environ['PYTEST_XDIST_WORKER']}} {{hil_running}} {{hil_results_folder.name}}\\n")
    assert hil_device.run(hil_patches).outputs.tobytes() == hil_golden.tobytes()
"""


def test_without_a_map_each_worker_runs_its_own_emulator(pytester, tmp_path, example_model_path):
    seen = tmp_path / "seen.txt"
    pytester.makepyfile(test_small=SMALL_SUITE.format(out=str(seen)))
    result = xdist_run(pytester, "-n", 2, "--target=qemu-m33", f"--model={example_model_path}", "--patches=4",
                       f"--results-dir={tmp_path / 'results'}")
    result.assert_outcomes(passed=4)
    by_worker: dict[str, set[tuple[str, str]]] = {}
    for line in seen.read_text().splitlines():
        worker, url, folder = line.split()
        by_worker.setdefault(worker, set()).add((url, folder))
    assert set(by_worker) == {"gw0", "gw1"}
    (a,), (b,) = by_worker["gw0"], by_worker["gw1"]  # one emulator and one folder per worker
    assert a[0] != b[0] and a[0].startswith("socket://127.0.0.1:")
    assert a[1].endswith("_qemu-m33_gw0") and b[1].endswith("_qemu-m33_gw1")
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == sorted([a[1], b[1]])


TURN_SUITE = """
import os
import time

def test_holds_the_board(hil_board, hil_device):
    began = time.time()
    time.sleep(1.0)
    with open({out!r}, "a") as out:
        out.write(f"{{os.getpid()}} {{hil_board.id}} {{began}} {{time.time()}}\\n")
"""


def test_two_runs_on_a_one_board_map_take_turns(pytester, tmp_path, example_model_path):
    seen = tmp_path / "turns.txt"
    lab = write_map(tmp_path, "- id: only\n  target: host\n")
    pytester.makepyfile(test_turn=TURN_SUITE.format(out=str(seen)))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--target=host", f"--hardware-map={lab}",
               f"--model={example_model_path}", "--board-wait=300"]
    runs = [pytester.popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            for _ in range(2)]
    try:
        outputs = [run.communicate(timeout=PYTEST_TIMEOUT_S)[0].decode() for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    assert [run.returncode for run in runs] == [0, 0], outputs
    turns = sorted(line.split()[1:] for line in seen.read_text().splitlines())
    assert [board for board, *_ in turns] == ["only", "only"]
    (_, began_1, ended_1), (_, began_2, ended_2) = sorted(turns, key=lambda t: float(t[1]))
    assert float(ended_1) <= float(began_2)  # one after the other, never both at once


def test_a_run_that_finds_its_board_taken_waits_then_fails_with_a_clear_line(pytester, tmp_path, other_process):
    other_process("only")
    lab = write_map(tmp_path, "- id: only\n  target: host\n")
    pytester.makepyfile("def test_one(hil_device): pass\ndef test_two(hil_device): pass\n")
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--target=host", f"--hardware-map={lab}",
                                           "--board-wait=1", timeout=PYTEST_TIMEOUT_S)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["no free host board in *lab.yaml after waiting 1 s: only is held by another run "
                                 "(pid *). Wait for them to be free, add boards to the map, or run fewer workers (-n)"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()
    assert time.monotonic() - started < 30  # waited once, not once per test


def test_a_board_with_a_labgrid_place_needs_the_coordinator(tmp_path, lock_folder):
    lab_map = load_hardware_map(write_map(tmp_path, """
- id: lab2-shelf
  target: qemu-m33
  probe: remote:127.0.0.1:5555
  port: rfc2217://127.0.0.1:3000
  labgrid_place: lab2-shelf
"""))
    assert lab_map.entries[0].labgrid_place == "lab2-shelf"
    with pytest.raises(HilError, match=r"entry 0 \(id lab2-shelf\) is reserved through labgrid place lab2-shelf: "
                                       r"give the coordinator with --coordinator HOST:PORT"):
        claim_board(lab_map, Board(load_target("qemu-m33")), holder="test", wait=1.0)
    lock = locks.try_lock("lab2-shelf", "test")  # the board's own lock was given back
    assert lock is not None
    lock.release()
