"""Target descriptors: the static facts of each board or emulator, read from targets/*.toml
and validated against targets/schema.json."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache

import jsonschema

from harness.errors import HilError
from harness.paths import TARGETS_DIR

DEFAULT_TARGET = "qemu-m33"


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    cpu: str
    cpu_features: tuple[str, ...]
    clock_hz: int  # 0 when the counter is not a clock (instructions, host ns)
    flash_bytes: int  # 0: unbounded (host)
    ram_bytes: int
    compiler: str
    compiler_packages: tuple[str, ...]
    bsp: str
    bsp_shared: str | None  # the board support every board of the architecture shares (firmware_stub/bsp/)
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    linker_script: str | None
    load_method: str
    pyocd_target: str | None  # pyOCD's target type for the chip, for boards loaded with pyOCD
    pack_name: str | None  # the CMSIS-Pack defining pyocd_target, when pyOCD has none built in
    transport: str
    baud: int | None
    timer_unit: str
    expected_per_mac: float  # counter units per MAC the engine is expected to need here, generously
    slowest_per_second: float  # counter units per wall-clock second at the slowest expected

    @property
    def counter_hz(self) -> int | None:
        """The rate its counter ticks at: the clock for cycles, 1e9 for ns, None for instructions."""
        return {"cycles": self.clock_hz, "ns": 1_000_000_000}.get(self.timer_unit)

    def expected_inference_seconds(self, macs: int) -> float:
        """How long one inference of `macs` multiply-accumulates may take here, at the slowest."""
        return macs * self.expected_per_mac / self.slowest_per_second

    @property
    def is_native(self) -> bool:
        return self.cpu == "native"


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads((TARGETS_DIR / "schema.json").read_text())


def available_targets() -> list[str]:
    return sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))


def load_target(target_id: str) -> Target:
    path = TARGETS_DIR / f"{target_id}.toml"
    if not path.is_file():
        raise HilError(f"unknown target '{target_id}'; known targets: {', '.join(available_targets())}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise HilError(f"{path.name}: not valid TOML ({exc})") from None
    return target_from_dict(data, path.name)


def target_from_dict(data: dict, source: str) -> Target:
    try:
        jsonschema.validate(data, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise HilError(f"{source}: invalid target descriptor at {where}: {exc.message}") from None
    build = data["build"]
    return Target(
        id=data["id"],
        description=data["description"],
        cpu=data["cpu"],
        cpu_features=tuple(data["cpu_features"]),
        clock_hz=data["clock_hz"],
        flash_bytes=data["memory"]["flash_bytes"],
        ram_bytes=data["memory"]["ram_bytes"],
        compiler=build["compiler"],
        compiler_packages=tuple(build.get("packages", ())),
        bsp=build["bsp"],
        bsp_shared=build.get("bsp_shared"),
        cflags=tuple(build["cflags"]),
        ldflags=tuple(build["ldflags"]),
        linker_script=build.get("linker_script"),
        load_method=data["load"]["method"],
        pyocd_target=data["load"].get("pyocd_target"),
        pack_name=data["load"].get("pack"),
        transport=data["link"]["transport"],
        baud=data["link"].get("baud"),
        timer_unit=data["timer"]["unit"],
        expected_per_mac=float(data["timer"]["expected_per_mac"]),
        slowest_per_second=float(data["timer"]["slowest_per_second"]),
    )
