"""Test data for the results layer: valid run.json dicts (docs/results.md, schema_version 1).

Not measurements: round figures chosen so that percentages are easy to check in tests.

    make_run()                                    a valid run of yamnet256 on qemu-m33
    make_run(latency={"median": 206_000_000})     deep-merged overrides (lists are replaced)
    make_run(footprint=footprint(code_flash=54_000))   a consistent footprint block
    write_run(tmp_path, run)                      a run directory holding run.json

Unless `run_id` is overridden, it is derived from environment.date, target and model_name, as
`hil bench` names its runs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from pathlib import Path

from harness.results.record import run_id
from harness.results.schema import DATE_FORMAT

MODEL_SHA256 = hashlib.sha256(b"test data: yamnet256").hexdigest()
OTHER_MODEL_SHA256 = hashlib.sha256(b"test data: another model").hexdigest()

# Flash and RAM outside the model's figures (harness, board support, C library), fixed.
_FLASH_OTHERS = {"harness": 3_000, "board": 1_500, "libc": 6_000, "data_init": 200}
_RAM_OTHERS = {"stack_unused": 2_000, "harness": 800, "board": 100, "libc": 300}


def footprint(
    activation_ram: int | None = 150_000,
    runtime_ram: int | None = 2_000,
    weights_flash: int | None = 150_000,
    code_flash: int | None = 50_000,
) -> dict:
    """A footprint block whose totals, tree and ELF sizes agree with the four model figures.

    runtime_ram is split into model data (1/5), engine data (1/20) and the stack's high-water mark;
    code_flash into model code 30 % and engine code 70 %. A None figure leaves what depends on
    it unknown."""
    model_data = 400 if runtime_ram is None else runtime_ram // 5
    engine_data = 100 if runtime_ram is None else runtime_ram // 20
    stack = None if runtime_ram is None else runtime_ram - model_data - engine_data
    model_code = None if code_flash is None else code_flash * 3 // 10
    flash_tree = {
        "weights": weights_flash, "model_code": model_code,
        "engine_code": None if code_flash is None else code_flash - model_code, **_FLASH_OTHERS,
    }
    ram_tree = {"arena": activation_ram, "model_data": model_data, "engine_data": engine_data, "stack_used": stack,
                **_RAM_OTHERS}
    return {
        "activation_ram": activation_ram,
        "runtime_ram": runtime_ram,
        "weights_flash": weights_flash,
        "code_flash": code_flash,
        "total_ram": _sum(activation_ram, runtime_ram),
        "total_flash": _sum(weights_flash, code_flash),
        "stack_bytes": stack,
        "tree": {"flash": flash_tree, "ram": ram_tree},
        "elf_flash": _sum(*flash_tree.values()),
        "elf_ram": _sum(*ram_tree.values()),
    }


def _sum(*values):
    return None if None in values else sum(values)


def _base() -> dict:
    return {
        "schema_version": 2,
        "run_id": "",
        "environment": {
            "harness_version": "0.1.0",
            "git_sha": "abc123def456",
            "compiler": "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205",
            "flags": ["-std=c99", "-O2", "-mcpu=cortex-m33"],
            "build_id": "abc123def456 arm-none-eabi-gcc 12.2.1 -std=c99 -O2 -mcpu=cortex-m33",
            "model_name": "yamnet256",
            "model_sha256": MODEL_SHA256,
            "target": "qemu-m33",
            "host": {"hostname": "ci-runner", "platform": "Linux-6.1-x86_64", "python": "3.11.7"},
            "date": "2026-11-25T06:15:02Z",
        },
        "device": {"counter_unit": "instructions", "counter_hz": None, "reset_reason": "power-on"},
        "parity": {
            "patches": 64, "exact_patches": 64,
            "max_abs_diff_lsb": 0, "cosine_min": 1.0, "l2r_max": 0.0, "rmse": 0.0, "mae": 0.0,
            "top1_agreement": 1.0, "retransmits": 0,
        },
        "latency": {
            "unit": "instructions", "median": 200_000_000, "min": 199_000_000, "max": 201_000_000, "runs": 5,
            "per_layer": [
                {"name": "op00_transpose", "operator": "TRANSPOSE", "count": 185_800},
                {"name": "op01_conv_2d", "operator": "CONV_2D", "count": 199_814_200},
            ],
            "ms_at_clock": None,
        },
        "throughput": {"patches_per_second": 2.5},
        "footprint": footprint(),
    }


def deep_merge(base: dict, overrides: dict) -> dict:
    """A copy of base with overrides merged in, dict by dict; any other value (lists too) replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def make_run(**overrides) -> dict:
    """A valid run.json dict, with overrides deep-merged into it."""
    run = deep_merge(_base(), overrides)
    if "run_id" not in overrides:
        env = run["environment"]
        started = datetime.strptime(env["date"], DATE_FORMAT)
        run["run_id"] = run_id(started, env["target"], env["model_name"])
    return run


def write_run(parent: Path, run: dict, name: str | None = None) -> Path:
    """Write run as <parent>/<run_id>/run.json (as `hil bench` lays it out); returns the folder."""
    folder = Path(parent) / (name or run["run_id"])
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    return folder
