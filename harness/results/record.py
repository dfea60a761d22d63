"""One bench run as data (the run.json of docs/results.md) and its directory on disk."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harness import __version__
from harness.build.firmware import FirmwareImage, build_flags, compiler_version, project_revision
from harness.compiler.codegen import layer_name
from harness.device.link.protocol import DeviceInfo
from harness.errors import HilError
from harness.results.schema import DATE_FORMAT, SCHEMA_VERSION

RUN_TIME_FORMAT = "%Y%m%dT%H%M%SZ"  # the start time in every run id and run folder name


@dataclass(frozen=True)
class RunData:
    """Everything a bench run measured, before it becomes files."""

    image: FirmwareImage
    device: DeviceInfo  # what the device said of itself in the handshake
    started: datetime
    inputs: np.ndarray
    device_outputs: np.ndarray
    golden_outputs: np.ndarray
    parity: dict
    latency: dict
    throughput: dict
    footprint: dict
    accuracy: dict | None = None  # with a dataset: the clip-level block (harness/accuracy/run.py)
    clip_of_patch: np.ndarray | None = None  # with a dataset: the clip each patch came from

    @property
    def run_id(self) -> str:
        return run_id(self.started, self.image.target.id, self.image.model.name)


def run_id(started: datetime, target: str, model_name: str) -> str:
    """A bench run's id and folder name: <UTC start>_<target>_<model>."""
    return f"{started.strftime(RUN_TIME_FORMAT)}_{target}_{model_name}"


def pytest_folder_name(started: datetime, target: str, worker: str | None = None) -> str:
    """The folder the hil suite keeps a session's per-patch outputs in: pytest_<UTC start>_<target>, and
    _<worker> for a pytest-xdist worker (gw0, gw1...), whose sessions start in the same second."""
    name = f"pytest_{started.strftime(RUN_TIME_FORMAT)}_{target}"
    return f"{name}_{worker}" if worker else name


def environment(image: FirmwareImage, started: datetime) -> dict:
    target = image.target
    return {
        "harness_version": __version__,
        "git_sha": project_revision(),
        "compiler": compiler_version(target.compiler),
        "flags": build_flags(target),
        "build_id": image.build_id,
        "model_name": image.model.name,
        "model_sha256": image.model.graph.sha256,
        "target": target.id,
        "host": {
            "hostname": socket.gethostname(), "platform": platform.platform(), "python": platform.python_version()
        },
        "date": started.strftime(DATE_FORMAT),
    }


def device_record(info: DeviceInfo) -> dict:
    """What the device reported of itself, checked against the target descriptor at the handshake."""
    return {"counter_unit": info.counter_unit_name, "counter_hz": info.counter_hz,
            "reset_reason": info.reset_reason_name}


def latency_record(unit: str, totals: tuple[int, ...], per_layer: tuple[int, ...], image: FirmwareImage,
                   counter_hz: int | None) -> dict:
    """counter_hz: the rate the device reported for its counter (checked against the descriptor)."""
    ordered = sorted(totals)
    median = int(np.median(ordered))
    return {
        "unit": unit,
        "median": median,
        "min": ordered[0],
        "max": ordered[-1],
        "runs": len(ordered),
        "per_layer": [
            {"name": layer_name(call), "operator": call.op.kind, "count": count}
            for call, count in zip(image.model.calls, per_layer)
        ],
        # Only cycles become time: instructions and host ns are not a board's milliseconds.
        "ms_at_clock": median / counter_hz * 1000.0 if unit == "cycles" and counter_hz else None,
    }


def run_json(data: RunData) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": data.run_id,
        "environment": environment(data.image, data.started),
        "device": device_record(data.device),
        "parity": data.parity,
        "latency": data.latency,
        "throughput": data.throughput,
        "footprint": data.footprint,
        **({} if data.accuracy is None else {"accuracy": data.accuracy}),
    }


def writable_results_dir(results_dir: Path) -> Path:
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot create the results folder {results_dir}: {exc.strerror}") from None
    if not os.access(results_dir, os.W_OK | os.X_OK):
        raise HilError(f"the results folder {results_dir} is not writable; pass --results-dir with one that is")
    return results_dir


def write_run(results_dir: Path, data: RunData, extra_files) -> Path:
    """Write the run into a temporary folder, then rename it: a failed run leaves no directory.

    `extra_files(folder, record)` adds the report and chart before the rename."""
    record = run_json(data)
    final = results_dir / data.run_id
    if final.exists():
        raise HilError(f"{final} already exists (two runs in one second?); run again")
    staging = Path(tempfile.mkdtemp(prefix=f".{data.run_id}.", dir=results_dir))
    try:
        (staging / "run.json").write_text(json.dumps(record, indent=2) + "\n")
        clips = {} if data.clip_of_patch is None else {"clip_of_patch": data.clip_of_patch}
        np.savez_compressed(staging / "outputs.npz", inputs=data.inputs, device=data.device_outputs,
                            golden=data.golden_outputs, **clips)
        extra_files(staging, record)
        os.chmod(staging, 0o755)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
