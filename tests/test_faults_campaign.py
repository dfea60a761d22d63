"""The fault campaign: each fault class injected into real `hil bench` / `hil infer` runs on the
emulated Cortex-M33 (qemu-m33), checking that nothing is lost, nothing is left running and every
verdict is right. Each injection is counted in tests/fault_tally.py; the session prints the table.

- lost results: runs already in the results folder whose history row or folder went missing, a
  run that ended 0 or 1 without its folder and row, outputs of `hil infer` finished but not kept;
- orphan processes: emulators still running (per /proc, not per the harness) after the command;
- wrong verdicts: an exit code other than the one the fault calls for (docs/exit-codes.md): a
  device failure is 4, never 1 (a parity failure) nor 0; bad input or a full disk 2; SIGTERM 143;
  Ctrl-C 130.

The frame-level faults (dropped, corrupted, duplicated, delayed frames) are also unit-tested in
tests/test_link_host_device.py and tests/test_link_framing.py; here the link of a whole bench run
goes through tests/lossy_transport.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from disks import fill, make_read_only, small_disk
from fault_tally import record
from process_table import emulator_serving, emulators_of, process_group, running

from harness.cli import EXIT_BAD_INPUT, EXIT_DEVICE_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, main
from harness.device.link.protocol import LinkClient
from harness.device.loaders import qemu
from harness.results.history import load_history

from lossy_transport import LossyTransport

pytestmark = [
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm is not installed"),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="checks processes through /proc"),
]

PATCHES = 6
LONG_RUN = 3000  # patches: a run still streaming when the harness is killed a moment after QEMU starts
EXITED_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def results(tmp_path_factory, example_model_path):
    """A results folder holding one finished run: the results no fault may lose."""
    folder = tmp_path_factory.mktemp("campaign") / "results"
    assert main(bench_args(example_model_path, folder)) == 0
    return folder


def bench_args(model: Path, results: Path, patches: int = PATCHES) -> list[str]:
    return ["bench", "--model", str(model), "--patches", str(patches), "--timing-runs", "2",
            "--results-dir", str(results)]


def recorded(results: Path) -> set[str]:
    """The runs of the results folder that have both their history row and their folder."""
    ids = set(load_history(results)["run_id"].dropna()) if results.is_dir() else set()
    return {i for i in ids if (results / i / "run.json").is_file()}


def left_behind(results: Path) -> list[str]:
    """What a run that did not finish must not leave: staging folders, folders without a row."""
    rows = set(load_history(results)["run_id"].dropna())
    return [p.name for p in results.iterdir() if p.is_dir() and (p.name.startswith(".") or p.name not in rows)]


def account(fault: str, results: Path, before: set[str], code: int, expected: int, emulators: list[int],
            injections: int = 1) -> None:
    """Count what the injection(s) cost, record it, and fail the test on any of it.
    `emulators`: the QEMU processes the run used, each of which must have ended."""
    after = recorded(results)
    lost = len(before - after) + (1 if code in (0, 1) and len(after - before) != 1 else 0)
    orphans = sum(running(pid) for pid in emulators)
    wrong = int(code != expected)
    record(fault, injections=injections, lost=lost, orphans=orphans, wrong_verdicts=wrong)
    assert (lost, orphans, wrong) == (0, 0, 0), f"{fault}: exit {code} (expected {expected}), lost {lost}, " \
                                                f"orphans {orphans}"
    assert left_behind(results) == []


def on_inference(monkeypatch, number: int, action) -> list[int]:
    """Run action(emulator pid) just before the number-th INFER; the emulators it acted on."""
    original, calls, acted = LinkClient.infer, [], []

    def infer(client):
        calls.append(1)
        if len(calls) == number:
            pid = emulator_serving(int(client.name.rsplit(":", 1)[1]))  # socket://127.0.0.1:PORT
            action(pid)
            acted.append(pid)
        return original(client)

    monkeypatch.setattr(LinkClient, "infer", infer)
    return acted


@pytest.mark.parametrize("at", [1, 3, PATCHES])
def test_emulator_killed_mid_run_is_a_device_failure(monkeypatch, capsys, results, example_model_path, at):
    before = recorded(results)
    acted = on_inference(monkeypatch, at, lambda pid: os.kill(pid, signal.SIGKILL))
    code = main(bench_args(example_model_path, results))
    err = capsys.readouterr().err
    assert acted and "device failure" in err and "Traceback" not in err, err
    account("emulator killed (SIGKILL)", results, before, code, EXIT_DEVICE_FAILED, acted)


@pytest.mark.parametrize("at", [1, 4])
def test_emulator_stopped_mid_run_is_a_device_failure(monkeypatch, capsys, results, example_model_path, at):
    before = recorded(results)
    acted = on_inference(monkeypatch, at, lambda pid: os.kill(pid, signal.SIGSTOP))
    code = main(bench_args(example_model_path, results))
    err = capsys.readouterr().err
    assert acted and "no valid answer to INFER" in err
    account("emulator stopped (SIGSTOP)", results, before, code, EXIT_DEVICE_FAILED, acted)


def _qmp(path: Path, command: str) -> None:
    """One command through QEMU's machine protocol (QMP) socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        reader = s.makefile("r")
        json.loads(reader.readline())  # the greeting
        for execute in ("qmp_capabilities", command):
            s.sendall(json.dumps({"execute": execute}).encode() + b"\n")
            while "return" not in (reply := json.loads(reader.readline())):  # events come first
                assert "error" not in reply, reply


@pytest.mark.parametrize("at", [1, 3, PATCHES])
def test_device_reset_mid_run_is_a_device_failure(monkeypatch, capsys, results, example_model_path, tmp_path, at):
    """The board resets (QEMU's system_reset) between an upload and its INFER: the fresh device has
    no input, refuses INFER, and the run stops as a device failure, never as a parity verdict."""
    control = tmp_path / "qmp.sock"
    command = qemu.QemuLoader.command
    monkeypatch.setattr(qemu.QemuLoader, "command", lambda self, image, port: [
        *command(self, image, port), "-qmp", f"unix:{control},server=on,wait=off"])
    before = recorded(results)
    acted = on_inference(monkeypatch, at, lambda pid: _qmp(control, "system_reset"))
    code = main(bench_args(example_model_path, results))
    err = capsys.readouterr().err
    assert acted and "input not fully written" in err
    account("device reset mid-run", results, before, code, EXIT_DEVICE_FAILED, acted)


def test_a_link_port_already_in_use_is_retried(monkeypatch, capsys, results, example_model_path):
    before = recorded(results)
    with socket.socket() as squatter:
        squatter.bind((qemu.LOOPBACK, 0))
        squatter.listen()
        taken, offered = squatter.getsockname()[1], []
        free = qemu._free_loopback_port

        def first_the_taken_port() -> int:
            offered.append(taken if not offered else free())
            return offered[-1]

        monkeypatch.setattr(qemu, "_free_loopback_port", first_the_taken_port)
        used = on_inference(monkeypatch, 1, lambda pid: None)
        code = main(bench_args(example_model_path, results))
    assert len(offered) == 2 and offered[0] == taken
    capsys.readouterr()
    account("link port already in use", results, before, code, 0, used)


def test_a_lossy_link_keeps_every_verdict(monkeypatch, capsys, results, example_model_path):
    """Bytes dropped and corrupted both ways on the link of a whole run, from its first inference
    (the handshake's large INFO frame crosses cleanly): retransmissions, and the same verdict."""
    from harness.device import session

    open_port, wrapped = session.open_port, []

    def lossy(url, baud, timeout):
        wrapped.append(LossyTransport(open_port(url, baud, timeout), drop_rate=0, corrupt_rate=0, seed=14))
        return wrapped[-1]

    def damage(pid):
        wrapped[0].drop_rate = wrapped[0].corrupt_rate = 0.004

    monkeypatch.setattr(session, "open_port", lossy)
    used = on_inference(monkeypatch, 1, damage)
    before = recorded(results)
    code = main(bench_args(example_model_path, results, patches=30))
    capsys.readouterr()
    (link,) = wrapped
    dropped, corrupted = link.sent.dropped + link.received.dropped, link.sent.corrupted + link.received.corrupted
    assert dropped and corrupted and link.sent.dropped + link.sent.corrupted
    account("link bytes dropped or corrupted (both ways)", results, before, code, 0, used,
            injections=dropped + corrupted)
    (run,) = recorded(results) - before
    assert json.loads((results / run / "run.json").read_text())["parity"]["retransmits"] > 0


def test_infer_keeps_the_outputs_finished_before_the_emulator_died(monkeypatch, capsys, tmp_path,
                                                                   example_model_path, example_compiled):
    from harness.inputs import reference_patches
    from harness.parity.golden import golden_outputs

    inputs = reference_patches(example_compiled.graph, 20)
    np.save(tmp_path / "x.npy", inputs)
    acted = on_inference(monkeypatch, 15, lambda pid: os.kill(pid, signal.SIGKILL))
    code = main(["infer", "--model", str(example_model_path), "--inputs", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "y.npy")])
    err = capsys.readouterr().err
    partial = tmp_path / "y.partial.npy"
    kept = np.load(partial) if partial.exists() else np.empty((0,))
    lost = 14 - len(kept)
    assert np.array_equal(kept, golden_outputs(example_model_path, inputs[:14]))  # kept, and right
    assert "stopped after 14 of 20 inputs" in err and not (tmp_path / "y.npy").exists()
    wrong = int(code != EXIT_DEVICE_FAILED)
    orphans = sum(running(pid) for pid in acted)
    record("emulator killed during hil infer", lost=lost, orphans=orphans, wrong_verdicts=wrong)
    assert (lost, orphans, wrong) == (0, 0, 0)


# --- the harness itself ends: a supervisor's SIGTERM or SIGKILL, Ctrl-C at a terminal ---------------

def _default_sigint() -> None:
    # A shell without job control starts background commands with SIGINT ignored: Python then
    # installs no KeyboardInterrupt handler. The user's terminal would deliver it; so does this.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_hil(*args: str) -> subprocess.Popen:
    """`hil` in a session of its own (its group is what a terminal's Ctrl-C reaches)."""
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_default_sigint)


def emulator_started_by(hil: subprocess.Popen, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := emulators_of(hil.pid):
            return found[0]
        assert hil.poll() is None, f"hil ended ({hil.returncode}) before starting QEMU: {hil.stderr.read()}"
        time.sleep(0.05)
    raise AssertionError("hil started no QEMU")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


@pytest.mark.parametrize("how, expected, says", [
    ("SIGTERM", EXIT_TERMINATED, "terminated"),
    ("SIGINT to the group", EXIT_INTERRUPTED, "interrupted"),
    ("SIGKILL", -signal.SIGKILL, None),
])
def test_the_harness_killed_mid_run_leaves_no_emulator(results, example_model_path, how, expected, says):
    before = recorded(results)
    hil = start_hil(*bench_args(example_model_path, results, LONG_RUN))
    try:
        emulator = emulator_started_by(hil)
        assert process_group(emulator) not in (None, hil.pid)  # out of reach of the terminal's Ctrl-C
        time.sleep(0.5)  # streaming patches
        if how == "SIGINT to the group":
            os.killpg(hil.pid, signal.SIGINT)
        else:
            hil.send_signal(getattr(signal, how))
        code = hil.wait(timeout=60)
        err = hil.stderr.read()
    finally:
        if hil.poll() is None:
            hil.kill()
            hil.wait()
    assert says is None or (says in err.splitlines()[-1] and "device" not in err), err
    orphans = int(not gone_within(emulator, EXITED_WITHIN_S))
    if orphans:
        os.kill(emulator, signal.SIGKILL)
    after = recorded(results)
    lost, wrong = len(before - after), int(code != expected)
    record(f"harness killed ({how})", lost=lost, orphans=orphans, wrong_verdicts=wrong)
    assert (lost, orphans, wrong) == (0, 0, 0), (code, err)
    assert [p for p in left_behind(results) if not p.startswith(".staging-")] == []  # SIGKILL may leave staging


def test_concurrent_runs_on_one_cache_and_one_results_folder(tmp_path, example_model_path):
    """Three runs at once, on a fresh cache (three builds of one firmware) and one results folder:
    each gets its own run id, folder and history row."""
    env = {**os.environ, "HIL_CACHE_DIR": str(tmp_path / "cache")}
    results = tmp_path / "results"
    runs = [subprocess.Popen([sys.executable, "-m", "harness.cli", *bench_args(example_model_path, results)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(3)]
    seen: set[int] = set()  # the emulators of the three, as the process table shows them
    deadline = time.monotonic() + 300
    while any(run.poll() is None for run in runs) and time.monotonic() < deadline:
        seen.update(pid for run in runs for pid in emulators_of(run.pid))
        time.sleep(0.02)
    codes, errors = zip(*((run.wait(timeout=1), run.stderr.read()) for run in runs))
    after = recorded(results)
    lost = 3 - len(after)
    wrong = sum(code != 0 for code in codes)
    orphans = sum(running(pid) for pid in seen)
    assert len(seen) >= 3  # each run's emulator was seen, so the orphan count means something
    record("concurrent runs (3 on one cache and results folder)", injections=3, lost=lost, orphans=orphans,
           wrong_verdicts=wrong)
    assert (lost, orphans, wrong) == (0, 0, 0), errors
    assert left_behind(results) == []
    assert not list((tmp_path / "cache").rglob("*.staging-*"))


# --- the results disk: full, read-only ------------------------------------------------------------

def test_a_full_results_disk_loses_nothing_already_kept(tmp_path, capsys, monkeypatch, example_model_path):
    with small_disk(tmp_path / "disk", "2m") as disk:
        results = disk / "results"
        assert main(bench_args(example_model_path, results)) == 0
        before = recorded(results)
        history = (results / "history.csv").read_bytes()
        filler = fill(disk)
        used = on_inference(monkeypatch, 1, lambda pid: None)
        code = main(bench_args(example_model_path, results))
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]
        assert last.startswith("hil bench: error:") and "No space left on device" in last and "Traceback" not in err
        assert (results / "history.csv").read_bytes() == history
        account("results disk full", results, before, code, EXIT_BAD_INPUT, used)
        monkeypatch.undo()
        filler.unlink()
        assert main(bench_args(example_model_path, results)) == 0  # space again: the next run lands
        assert len(recorded(results)) == 2


def test_a_read_only_results_disk_is_refused_before_the_run(tmp_path, capsys, monkeypatch, example_model_path):
    with small_disk(tmp_path / "disk", "2m") as disk:
        results = disk / "results"
        assert main(bench_args(example_model_path, results)) == 0
        before = recorded(results)
        make_read_only(disk)
        from harness import bench

        monkeypatch.setattr(bench, "open_device", lambda *a: pytest.fail("the device ran for a run it cannot keep"))
        code = main(bench_args(example_model_path, results))
        err = capsys.readouterr().err
        assert "is not writable" in err and "Traceback" not in err
        account("results disk read-only", results, before, code, EXIT_BAD_INPUT, [])
