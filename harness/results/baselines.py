"""results/baselines/<target>.json: the run.json that nightly CI compares against (`hil compare`)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import HilError
from harness.io import write_atomically
from harness.results.schema import load_run, run_json_path

BASELINES_DIR = "baselines"
_TARGET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # as in targets/schema.json


def baseline_path(results_dir: Path | str, target: str) -> Path:
    if not _TARGET_ID.match(target):
        raise HilError(f"'{target}' is not a target id (lowercase letters, digits and '-')")
    return Path(results_dir) / BASELINES_DIR / f"{target}.json"


def save_baseline(results_dir: Path | str, run_dir: Path | str) -> Path:
    """Validate the run, then copy its run.json byte for byte to baselines/<target>.json."""
    run = load_run(run_dir)
    source = run_json_path(run_dir)
    path = baseline_path(results_dir, run["environment"]["target"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot create {path.parent} ({exc.strerror})") from None
    content = source.read_bytes()
    write_atomically(path, lambda tmp: tmp.write_bytes(content))
    return path
