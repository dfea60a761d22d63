"""Boards on another machine: reached through pyOCD's probe server and ser2net's RFC 2217 port, held
through labgrid's coordinator; all of them real servers, on loopback (tests/lab_host.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from harness.device.session import open_device
from harness.errors import HilError
from harness.farm.remote import ReservationError, reserved
from harness.parity.golden import GoldenModel

pytest_plugins = ["pytester", "lab_host"]
# pyserial's RFC 2217 client starts its reader thread the deprecated way.
pytestmark = pytest.mark.filterwarnings("ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning")

PROMPT_S = 10.0  # a dead server, an unknown place, no coordinator: reported within this many seconds


def example_inputs(model, count: int) -> np.ndarray:
    tensor = model.graph.tensor(model.graph.inputs[0])
    return np.random.default_rng(7).integers(-128, 128, size=(count, *tensor.shape), dtype=np.int8)


# --- the device path ------------------------------------------------------------------------------


def test_a_session_flashes_and_runs_a_board_through_the_lab_hosts_servers(
        lab_host, lab_coordinator, example_compiled, example_model_path):
    """Reserve the board's place, flash it through `remote:` (pyOCD's probe server), talk to it through
    `rfc2217://` (ser2net): the outputs equal the golden's."""
    place = lab_coordinator.create_place("shelf-example")
    inputs = example_inputs(example_compiled, 3)
    with reserved(place, lab_coordinator.address, timeout=30):
        with open_device(example_compiled, lab_host.board(reflash=True)) as device:
            result = device.run(inputs)
    golden = GoldenModel(example_model_path)
    for x, y in zip(inputs, result.outputs):
        assert y.tobytes() == golden.invoke(x).tobytes(), lab_host.logs()
    assert lab_coordinator.holder(place) is None


DEVICE_SUITE = """
def test_runs_on_the_device(hil_device, hil_patches, hil_golden):
    result = hil_device.run(hil_patches)
    assert result.outputs.tobytes() == hil_golden.tobytes()
"""


HELD_SUITE = DEVICE_SUITE + """
import subprocess
from lab_host import program

def test_the_place_is_held_for_the_session(hil_device, hil_config, hil_board):
    shown = subprocess.run([program("labgrid-client"), "-x", hil_config.coordinator, "-p", "lab-shelf", "show"],
                           capture_output=True, text=True, check=True).stdout
    print("PLACE", [line for line in shown.splitlines() if "acquired:" in line][0].split()[-1])
"""


def test_the_plugins_suite_runs_through_the_lab_hosts_servers(
    pytester, lab_host, lab_coordinator, example_model_path, tmp_path
):
    """The whole remote path: a hardware map naming the lab host's board (probe server, RFC 2217 port)
    and its labgrid place, held at the coordinator for the session and released after."""
    from harness.farm.remote import identity

    place = lab_coordinator.create_place("lab-shelf")
    lab_map = tmp_path / "lab.yaml"
    lab_map.write_text(f"- id: shelf-1\n  target: qemu-m33\n  probe: {lab_host.probe}\n  port: {lab_host.port}\n"
                       f"  labgrid_place: {place}\n")
    pytester.makepyfile(HELD_SUITE)
    # labgrid's own pytest plugin (installed with labgrid) starts a step logger once per process.
    result = pytester.runpytest("-s", "-p", "no:labgrid", "--target=qemu-m33", f"--hardware-map={lab_map}",
                                f"--coordinator={lab_coordinator.address}", f"--model={example_model_path}",
                                "--patches=4", f"--results-dir={tmp_path}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*PLACE {identity()}*"])
    assert lab_coordinator.holder(place) is None  # released when the session ended


# --- servers that are gone ----------------------------------------------------------------------------


def test_a_dead_ser2net_is_reported_within_seconds(fresh_lab_host, example_compiled):
    fresh_lab_host.services["ser2net"].stop()
    started = time.monotonic()
    with pytest.raises(HilError, match=rf"cannot open the link {re.escape(fresh_lab_host.port)}: .*refused"):
        with open_device(example_compiled, fresh_lab_host.board()):
            pass
    assert time.monotonic() - started < PROMPT_S


def test_a_dead_probe_server_is_reported_within_seconds(fresh_lab_host, example_compiled):
    """The emulator waits for an image, so the session must flash it: through a probe server that is gone."""
    fresh_lab_host.services["pyocd-server"].stop()
    started = time.monotonic()
    with pytest.raises(HilError, match=rf"the debug probe {re.escape(fresh_lab_host.probe)} cannot be used: .*refused"):
        with open_device(example_compiled, fresh_lab_host.board()):
            pass
    assert time.monotonic() - started < PROMPT_S


# --- reservations through labgrid's coordinator -------------------------------------------------------

# One session of another machine: holds the place for `hold` seconds, printing when it got it and
# when it let it go (wall clock, comparable between processes).
SESSION = textwrap.dedent("""
    import sys, time
    from harness.errors import HilError
    from harness.farm.remote import reserved
    place, coordinator, timeout, hold = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    try:
        with reserved(place, coordinator, timeout) as me:
            print("held", me, time.time(), flush=True)
            time.sleep(hold)
            print("released", me, time.time(), flush=True)
    except HilError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
""")


def session(coordinator, place: str, host: str, timeout: float, hold: float) -> subprocess.Popen:
    env = {**os.environ, "LG_HOSTNAME": host, "LG_USERNAME": "hil"}
    return subprocess.Popen([sys.executable, "-c", SESSION, place, coordinator.address, str(timeout), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_sessions_contending_for_a_place_never_both_hold_it(lab_coordinator):
    place = lab_coordinator.create_place("shelf-contended")
    sessions = [session(lab_coordinator, place, f"host{i}", timeout=60, hold=0.5) for i in range(3)]
    intervals = []
    for process in sessions:
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err
        (held, who, start), (released, _, end) = (line.split() for line in out.splitlines())
        intervals.append((float(start), float(end), who))
    intervals.sort()
    assert len({who for _, _, who in intervals}) == 3
    for (_, end, _), (start, _, _) in zip(intervals, intervals[1:]):
        assert end <= start, f"two sessions held {place} at once: {intervals}"
    assert lab_coordinator.holder(place) is None


def test_a_session_that_waits_past_its_bound_says_who_holds_the_place(lab_coordinator, monkeypatch):
    place = lab_coordinator.create_place("shelf-busy")
    monkeypatch.setenv("LG_HOSTNAME", "bench-pc")
    monkeypatch.setenv("LG_USERNAME", "alice")
    with reserved(place, lab_coordinator.address, timeout=10) as me:
        assert me == "bench-pc/alice" and lab_coordinator.holder(place) == me
        started = time.monotonic()
        other = session(lab_coordinator, place, "ci-runner", timeout=2, hold=0)
        out, err = other.communicate(timeout=30)
        waited = time.monotonic() - started
        assert other.returncode == 2 and "held" not in out
        assert len(err.strip().splitlines()) == 1
        assert f"labgrid place {place} is held by bench-pc/alice; gave up after waiting 2 s" in err
        assert 2 <= waited < 2 + PROMPT_S
    assert lab_coordinator.holder(place) is None
    reservations = lab_coordinator.client("reservations")
    assert "name=shelf-busy" not in reservations, reservations  # the waiter's reservation went with it


def test_a_place_released_is_taken_by_the_session_waiting_for_it(lab_coordinator):
    place = lab_coordinator.create_place("shelf-queue")
    first = session(lab_coordinator, place, "bench-pc", timeout=10, hold=2.0)
    assert first.stdout.readline().startswith("held")
    second = session(lab_coordinator, place, "ci-runner", timeout=30, hold=0)
    first.communicate(timeout=30)
    out, err = second.communicate(timeout=40)
    assert second.returncode == 0, err
    assert out.startswith("held ci-runner/hil")


def test_an_unknown_place_is_one_line(lab_coordinator):
    started = time.monotonic()
    with pytest.raises(ReservationError, match=rf"the labgrid coordinator {lab_coordinator.address} has no place "
                                               r"nowhere; create it there with: labgrid-client .* create$"):
        with reserved("nowhere", lab_coordinator.address, timeout=30):
            pass
    assert time.monotonic() - started < PROMPT_S


def test_an_unreachable_coordinator_is_one_line():
    from lab_host import free_port

    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ReservationError, match=rf"cannot reach the labgrid coordinator {address}: check"):
        with reserved("shelf", address, timeout=30):
            pass
    assert time.monotonic() - started < PROMPT_S
