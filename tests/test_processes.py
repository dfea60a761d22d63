"""Processes: children die with the harness however it ends, and a build killed midway leaves no
staging folder behind for long. The emulator runs of this are in tests/test_faults_campaign.py;
these use small real processes (sleep, python) to check the mechanisms themselves through /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from process_table import process_group, running

from harness.build.staging import STAGING_MARK, publish_folder, remove_stale_staging
from harness.device.loaders.children import start_child, stop_child

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="checks processes through /proc")

PROJECT = Path(__file__).resolve().parent.parent


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def python(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})


def test_a_child_is_killed_by_the_kernel_when_its_parent_is_killed():
    parent = python("""
        from harness.device.loaders.children import start_child
        child = start_child(["sleep", "600"])
        print(child.pid, flush=True)
        input()
    """)
    child = int(parent.stdout.readline())
    assert running(child)
    parent.kill()  # no handler, no finally: only the kernel can end the child now
    parent.wait()
    assert wait_until(lambda: not running(child)), f"sleep {child} outlived its parent"


def test_a_child_has_its_own_process_group_and_stops_even_when_stopped():
    child = start_child(["sleep", "600"])
    try:
        assert process_group(child.pid) == child.pid != os.getpgrp()  # a terminal's Ctrl-C misses it
        os.kill(child.pid, signal.SIGSTOP)
        stop_child(child, grace=2.0)
        assert child.returncode == -signal.SIGTERM and not running(child.pid)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_build_killed_midway_leaves_a_staging_folder_the_next_build_removes(tmp_path):
    builder = python(f"""
        import time
        from pathlib import Path
        from harness.build.staging import publish_folder

        def build(staging):
            (staging / "half.o").write_text("half")
            print(staging, flush=True)
            time.sleep(600)

        publish_folder(build, Path({str(tmp_path / "firmware-a")!r}))
    """)
    staging = Path(builder.stdout.readline().strip())
    assert staging.is_dir() and STAGING_MARK in staging.name
    assert remove_stale_staging(tmp_path) == []  # its builder is alive: not stale
    builder.kill()
    builder.wait()
    assert staging.is_dir()  # what a killed build leaves...
    publish_folder(lambda folder: (folder / "image.elf").write_text("elf"), tmp_path / "firmware-b")
    assert not staging.exists()  # ...the next build in the same cache folder removes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firmware-b"]
