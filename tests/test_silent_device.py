"""A device that goes silent is reported within its inference timeout (twice what the model is
expected to take on the target, plus a slack), through `hil bench` and through the pytest plugin.

The emulator is really stopped (SIGSTOP) just before an inference is requested: the harness must
give up when the limit has passed, not after every retransmission's worth of waiting."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness import defaults
from harness.cli import main
from harness.compiler import compile_file
from harness.device.board import Board
from harness.device.link.protocol import LinkClient
from harness.targets import load_target

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the emulator through /proc")

pytest_plugins = ["pytester"]

MARGIN_S = 2.0  # scheduling, and stopping the emulator afterwards


def qemu_serving(url: str) -> list[int]:
    """The QEMU processes started by this process that serve the link at `url` (socket://127.0.0.1:PORT)."""
    port = url.rsplit(":", 1)[1]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        serves = any(f"port={port},".encode() in part for part in command)
        if name.startswith("qemu-system") and int(rest[1]) == os.getpid() and serves:
            found.append(int(entry.name))
    return found


def test_hil_bench_reports_a_stopped_emulator_within_its_inference_timeout(
    monkeypatch, capsys, tmp_path, example_model_path
):
    board = Board(load_target("qemu-m33"))
    limit = board.run_timeout(compile_file(example_model_path).macs).seconds(1)
    expected = load_target("qemu-m33").expected_inference_seconds(compile_file(example_model_path).macs)
    assert limit == pytest.approx(2 * expected + defaults.INFERENCE_SLACK_S)
    original_infer, stopped = LinkClient.infer, []

    def infer_on_a_stopped_emulator(client):
        if not stopped:  # the first inference
            (pid,) = qemu_serving(client.name)
            os.kill(pid, signal.SIGSTOP)
            stopped.append((client.name, time.monotonic()))
        return original_infer(client)

    monkeypatch.setattr(LinkClient, "infer", infer_on_a_stopped_emulator)
    code = main(["bench", "--model", str(example_model_path), "--patches", "3", "--results-dir", str(tmp_path)])
    reported = time.monotonic()
    err = capsys.readouterr().err
    assert code == 4  # a device failure (docs/exit-codes.md)
    assert "no valid answer to INFER" in err and "Traceback" not in err
    (url, when), = stopped
    assert limit <= reported - when < limit + MARGIN_S
    assert qemu_serving(url) == []  # the stopped emulator did not outlive the command
    assert not list(tmp_path.glob("*_qemu-m33_*"))  # no run directory for a run that did not finish


SILENT_SUITE = """
import os, signal, time
import pytest
from harness.device.link.protocol import LinkTimeout
from test_silent_device import qemu_serving

def test_a_stopped_emulator(hil_device, hil_patches, hil_config, hil_compiled):
    limit = hil_config.board.run_timeout(hil_compiled.macs).seconds(1)
    hil_device.client.write_input(hil_patches[0].tobytes())
    (pid,) = qemu_serving(hil_device.client.name)
    os.kill(pid, signal.SIGSTOP)
    print(f"STOPPED {hil_device.client.name}")
    started = time.monotonic()
    with pytest.raises(LinkTimeout, match="no valid answer to INFER"):
        hil_device.client.infer()
    elapsed = time.monotonic() - started
    print(f"SILENT after {elapsed:.2f} s, limit {limit:.2f} s")
    assert limit <= elapsed < limit + 1.0
"""


def test_the_pytest_plugin_reports_a_stopped_emulator_within_its_inference_timeout(pytester, example_model_path):
    pytester.makepyfile(SILENT_SUITE)
    pytester.syspathinsert(Path(__file__).parent)
    result = pytester.runpytest("-s", "--target=qemu-m33", f"--model={example_model_path}", "--patches=2",
                                f"--results-dir={pytester.path}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*SILENT after * s, limit * s*"])
    (url,) = [line.split()[-1] for line in result.outlines if "STOPPED socket:" in line]
    assert qemu_serving(url) == []  # the session's end stopped the stopped emulator


def test_the_inference_timeout_option_overrides_the_derived_one(pytester, example_model_path):
    pytester.makepyfile(SILENT_SUITE)
    pytester.syspathinsert(Path(__file__).parent)
    result = pytester.runpytest("-s", "--target=qemu-m33", f"--model={example_model_path}", "--patches=2",
                                "--inference-timeout=1.5", f"--results-dir={pytester.path}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*SILENT after * s, limit 1.50 s*"])
