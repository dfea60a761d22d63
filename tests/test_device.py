"""Opening links, checking what the build needs, the session's error reports: clear messages for the
user's mistakes."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.build.firmware import require_compiler
from harness.device import session as session_module
from harness.device.board import Board
from harness.device.link.protocol import LinkTimeout
from harness.device.loaders import Loader
from harness.device.port import open_port
from harness.device.session import Session
from harness.errors import HilError
from harness.targets import load_target, target_from_dict


def test_a_port_that_does_not_exist_is_named_with_what_to_check():
    with pytest.raises(HilError, match=r"cannot open the link /dev/ttyHIL_NOPE: .*Check that the port exists"):
        open_port("/dev/ttyHIL_NOPE", 921600, 1.0)


def test_a_port_held_by_another_run_is_refused():
    controller, device = os.openpty()
    try:
        name = os.ttyname(device)
        first = open_port(name, 921600, 1.0)
        try:
            with pytest.raises(HilError, match="no other program"):
                open_port(name, 921600, 1.0)
        finally:
            first.close()
    finally:
        os.close(controller)
        os.close(device)


def test_a_missing_compiler_names_the_packages_to_install():
    data = {
        "id": "nocc", "description": "a target whose compiler is missing", "cpu": "cortex-m33",
        "cpu_features": [], "clock_hz": 0, "memory": {"flash_bytes": 0, "ram_bytes": 0},
        "build": {"compiler": "hil-no-such-gcc", "packages": ["gcc-arm-none-eabi"], "bsp": "mps2-an505",
                  "cflags": [], "ldflags": []},
        "load": {"method": "qemu"}, "link": {"transport": "socket"},
        "timer": {"unit": "instructions", "expected_per_mac": 12, "slowest_per_second": 2.5e8},
    }
    with pytest.raises(HilError, match="'hil-no-such-gcc'.*sudo apt-get install gcc-arm-none-eabi"):
        require_compiler(target_from_dict(data, "nocc.toml"))


def test_descriptors_are_validated_against_the_schema():
    with pytest.raises(HilError, match=r"bad\.toml: invalid target descriptor at timer/unit: 'seconds' is not one of"):
        timer = {**_valid("qemu-m33")["timer"], "unit": "seconds"}
        target_from_dict({**_valid("qemu-m33"), "timer": timer}, "bad.toml")
    with pytest.raises(HilError, match=r"at \(top level\): 'memory' is a required property"):
        target_from_dict({k: v for k, v in _valid("u585").items() if k != "memory"}, "bad.toml")


@pytest.mark.parametrize("target", ["host", "qemu-m33", "u585"])
def test_every_shipped_descriptor_is_valid(target):
    assert load_target(target).id == target


def _valid(target_id: str) -> dict:
    import tomllib

    from harness.paths import TARGETS_DIR

    return tomllib.loads((TARGETS_DIR / f"{target_id}.toml").read_text())


class FakeLoader(Loader):
    """A fake target for the session layer: it starts nothing and has printed a fixed console."""

    def start(self, image):
        return "socket://127.0.0.1:9"

    def stop(self):
        pass

    def output(self):
        return "boot: HardFault at 0x0800_1234"


def test_every_error_after_load_carries_the_targets_console_once(monkeypatch, example_compiled):
    monkeypatch.setattr(session_module, "make_loader", lambda board, image: FakeLoader())
    session = Session(example_compiled, Board(load_target("qemu-m33")))
    session.image = SimpleNamespace(path=Path("firmware.elf"))  # the fake loader loads nothing
    session.load()
    with pytest.raises(LinkTimeout) as error:
        with session.reporting():
            with session.reporting():  # nested steps add it once
                raise LinkTimeout("no valid answer", port="p", request="INFER (seq 1)", tries=2, last_received="x")
    assert str(error.value) == "no valid answer\n(target output: boot: HardFault at 0x0800_1234)"
    assert error.value.request == "INFER (seq 1)"  # the error keeps its type and fields
    session.unload()
