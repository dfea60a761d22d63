"""results/baselines/<target>/<compiler>.json: the runs that nightly CI compares against.

Latency and footprint depend on the compiler that built the firmware (Debian 12 and 13 ship
different Arm compilers), so a target keeps one baseline per compiler, and a candidate is
compared with the one made by its own compiler (`hil compare results/baselines RUN`).
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import HilError
from harness.io import write_atomically
from harness.results.schema import load_run, run_json_path

BASELINES_DIR = "baselines"
_TARGET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # as in targets/schema.json


def compiler_slug(compiler: str | None) -> str:
    """A file name for a compiler's version line, e.g. 'arm-none-eabi-gcc-15-12.2.rel1-1-12.2.1-20221205'."""
    if compiler is None:
        return "unknown-compiler"
    return re.sub(r"[^a-z0-9.]+", "-", compiler.lower()).strip("-.") or "unknown-compiler"


def baseline_path(baselines_dir: Path | str, target: str, compiler: str | None) -> Path:
    if not _TARGET_ID.match(target):
        raise HilError(f"'{target}' is not a target id (lowercase letters, digits and '-')")
    return Path(baselines_dir) / target / f"{compiler_slug(compiler)}.json"


def save_baseline(results_dir: Path | str, run_dir: Path | str) -> Path:
    """Validate the run, then copy its run.json byte for byte to baselines/<target>/<compiler>.json."""
    run = load_run(run_dir)
    source = run_json_path(run_dir)
    env = run["environment"]
    path = baseline_path(Path(results_dir) / BASELINES_DIR, env["target"], env["compiler"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot create {path.parent} ({exc.strerror})") from None
    content = source.read_bytes()
    write_atomically(path, lambda tmp: tmp.write_bytes(content))
    return path


def is_baselines_folder(path: Path | str) -> bool:
    """A folder of baselines, as opposed to a run directory (which holds run.json)."""
    path = Path(path)
    return path.is_dir() and not (path / "run.json").exists()


def choose_baseline(baselines_dir: Path | str, candidate: dict) -> tuple[Path, str]:
    """The baseline for the candidate's target and compiler, and a sentence saying which it is.

    When none was made with the candidate's compiler, the newest one of its target is taken, so
    that parity is still judged, and the sentence says so (compare then names what differs)."""
    env = candidate["environment"]
    wanted = baseline_path(baselines_dir, env["target"], env["compiler"])
    if wanted.is_file():
        return wanted, f"baseline for {env['target']} built with {env['compiler']}: {wanted}"
    others = sorted((Path(baselines_dir) / env["target"]).glob("*.json"))
    if not others:
        raise HilError(
            f"no baseline for target {env['target']} in {baselines_dir}; keep one with: hil baseline save RUN"
        )
    newest = max(others, key=lambda path: load_run(path)["environment"]["date"])
    return newest, (
        f"no baseline for {env['target']} built with {env['compiler']} (expected {wanted}); "
        f"comparing with {newest} to judge parity only. Keep one for this environment with: hil baseline save RUN"
    )
