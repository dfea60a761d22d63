"""Target descriptors: the static facts of each board or emulator, read from targets/*.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from harness.errors import HilError
from harness.paths import TARGETS_DIR

DEFAULT_TARGET = "qemu-m33"


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    cpu: str
    cpu_features: tuple[str, ...]
    clock_hz: int
    flash_bytes: int  # 0: unbounded (host)
    ram_bytes: int
    toolchain: str
    load_method: str
    transport: str
    timer_unit: str


def available_targets() -> list[str]:
    return sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))


def load_target(target_id: str) -> Target:
    path = TARGETS_DIR / f"{target_id}.toml"
    if not path.is_file():
        raise HilError(f"unknown target '{target_id}'; known targets: {', '.join(available_targets())}")
    try:
        data = tomllib.loads(path.read_text())
        return Target(
            id=data["id"],
            description=data["description"],
            cpu=data["cpu"],
            cpu_features=tuple(data["cpu_features"]),
            clock_hz=int(data["clock_hz"]),
            flash_bytes=int(data["memory"]["flash_bytes"]),
            ram_bytes=int(data["memory"]["ram_bytes"]),
            toolchain=data["build"]["toolchain"],
            load_method=data["load"]["method"],
            transport=data["link"]["transport"],
            timer_unit=data["timer"]["unit"],
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise HilError(f"{path.name}: invalid target descriptor ({type(exc).__name__}: {exc})") from None
