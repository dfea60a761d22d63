"""The device's frame decoder (firmware_stub/app/link.c) under libFuzzer with AddressSanitizer and
UndefinedBehaviorSanitizer, for a bounded number of runs (tests/fuzz/link_decoder_fuzz.c says what
the harness feeds it and checks). Any crash, sanitizer report or broken promise fails the test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import fault_tally
import pytest

from harness.build.sources import ENGINE_CFLAGS
from harness.paths import FIRMWARE_DIR, PROJECT_ROOT

HARNESS = PROJECT_ROOT / "tests" / "fuzz" / "link_decoder_fuzz.c"
RUNS = 100_000  # seconds on one core
SANITIZERS = "-fsanitize=fuzzer,address,undefined"


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory):
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed (setup.sh installs it: sudo apt-get install clang)")
    executable = tmp_path_factory.mktemp("fuzz") / "link_decoder_fuzz"
    warnings = [flag for flag in ENGINE_CFLAGS if flag not in ("-std=c99",)]
    command = [
        clang, *warnings, "-Wno-unused-command-line-argument", SANITIZERS, "-fno-sanitize-recover=all",
        "-I", str(FIRMWARE_DIR / "app"), "-I", str(FIRMWARE_DIR / "bsp"), "-I", str(FIRMWARE_DIR / "kernels"),
        str(FIRMWARE_DIR / "app" / "link.c"), str(HARNESS), "-o", str(executable),
    ]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        major = subprocess.run([clang, "-dumpversion"], capture_output=True, text=True).stdout.split(".")[0]
        pytest.fail(f"building the fuzzer failed (libFuzzer: sudo apt-get install libclang-rt-{major}-dev):\n"
                    + built.stderr[-3000:])
    return executable


def seeds(folder):
    """Where the mutations start: valid HELLO and WRITE_INPUT frames and a frame longer than the receive
    buffer, raw (even first byte); a packet over max_body with its CRC made right (odd first byte)."""
    from harness.device.link.framing import Packet, encode_frame

    folder.mkdir()
    starts = [
        b"\x00" + encode_frame(Packet(1, 0)),
        b"\x00" + encode_frame(Packet(2, 7, bytes(4) + b"\x01" * 300)),
        b"\x00" + b"\x00" + b"\x55" * 1100 + b"\x00",
        b"\x01" + b"\x02\x05\x00\x00" + b"\x33" * 1040,
    ]
    for index, start in enumerate(starts):
        (folder / f"seed{index}").write_bytes(start)
    return folder


def test_the_device_frame_decoder_survives_fuzzing(fuzzer, tmp_path):
    corpus = seeds(tmp_path / "corpus")
    result = subprocess.run(
        [str(fuzzer), f"-runs={RUNS}", "-max_len=2200", "-seed=1", "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path,
        env={**os.environ, "ASAN_OPTIONS": "abort_on_error=0", "UBSAN_OPTIONS": "print_stacktrace=1"},
    )
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", result.stderr)
    executed = int(runs.group(1)) if runs else 0
    fault_tally.record("fuzz: device frame decoder (libFuzzer, ASan+UBSan)", executed)
    assert result.returncode == 0, result.stderr[-4000:]
    assert executed >= RUNS, result.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*")) and "ERROR:" not in result.stderr
