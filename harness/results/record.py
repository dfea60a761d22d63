"""One bench run as data (the run.json of docs/results.md) and its directory on disk."""

from __future__ import annotations

import itertools
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
from harness.compiler.graph import Tensor
from harness.device.link.protocol import DeviceInfo
from harness.errors import HilError
from harness.results.history import add_history_row, load_history, results_lock
from harness.results.schema import DATE_FORMAT, SCHEMA_VERSION, validate_run

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
        """The id the run has unless another run in its results folder took it (publish_run)."""
        return run_id(self.started, self.image.target.id, self.image.model.name)


def run_id(started: datetime, target: str, model_name: str) -> str:
    """A bench run's id and folder name: <UTC start>_<target>_<model> (publish_run makes the start
    <UTC start>-2, -3... for the later runs that started in the same second)."""
    return f"{started.strftime(RUN_TIME_FORMAT)}_{target}_{model_name}"


def pytest_folder_name(started: datetime, target: str, worker: str | None = None) -> str:
    """The folder the hil suite keeps a session's per-patch outputs in: pytest_<UTC start>_<target>, and
    _<worker> for a pytest-xdist worker (gw0, gw1...), whose sessions start in the same second."""
    name = f"pytest_{started.strftime(RUN_TIME_FORMAT)}_{target}"
    return f"{name}_{worker}" if worker else name


def environment(image: FirmwareImage, started: datetime) -> dict:
    target, graph = image.target, image.model.graph
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
        "input": _io_tensor(graph.tensor(graph.inputs[0])),
        "output": _io_tensor(graph.tensor(graph.outputs[0])),
    }


def _io_tensor(tensor: Tensor) -> dict:
    return {"dtype": tensor.dtype, "shape": list(tensor.shape)}


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
            {"name": layer_name(call), "operator": call.op.kind, "kernel": call.function, "macs": call.macs,
             "count": count}
            for call, count in zip(image.model.calls, per_layer)
        ],
        # Only cycles become time: instructions and host ns are not a board's milliseconds.
        "ms_at_clock": median / counter_hz * 1000.0 if unit == "cycles" and counter_hz else None,
    }


def run_json(data: RunData, run_id: str) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "environment": environment(data.image, data.started),
        "device": device_record(data.device),
        "parity": data.parity,
        "latency": data.latency,
        "throughput": data.throughput,
        "footprint": data.footprint,
        **({} if data.accuracy is None else {"accuracy": data.accuracy}),
    }


def writable_results_dir(results_dir: Path) -> Path:
    """The results folder, checked before any work: it exists or is created, is writable, and its
    history is readable, so a run never learns only at its end that it cannot be kept."""
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot create the results folder {results_dir}: {exc.strerror}") from None
    if not os.access(results_dir, os.W_OK | os.X_OK):
        raise HilError(f"the results folder {results_dir} is not writable; pass --results-dir with one that is")
    load_history(results_dir)  # a corrupt history.csv is reported now, with what to do about it
    return results_dir


def publish_run(results_dir: Path, data: RunData, extra_files) -> tuple[Path, dict]:
    """Give the run an id no other run in results_dir has, write its folder, append its history row.

    All three happen under the results folder's lock, so runs starting in the same second (one
    process each, or concurrent pytest sessions) get distinct ids: the second is <time>Z-2_..., and
    so on. `extra_files(folder, record)` adds the report and chart. A failure (a full disk, say)
    leaves neither a folder nor a row, and says so in one line."""
    with results_lock(results_dir):
        _remove_stale_staging(results_dir)
        taken = set(load_history(results_dir)["run_id"].dropna())
        base = data.run_id
        ids = (base if n == 1 else base.replace("Z_", f"Z-{n}_", 1) for n in itertools.count(1))
        chosen = next(i for i in ids if i not in taken and not (results_dir / i).exists())
        record = run_json(data, chosen)
        validate_run(record, chosen)  # a record the readers would refuse is never written
        folder = _write_folder(results_dir / chosen, data, record, extra_files)
        try:
            add_history_row(results_dir, record)
        except (HilError, OSError):
            shutil.rmtree(folder, ignore_errors=True)  # a run is its folder and its row, or neither
            raise
    return folder, record


STAGING_PREFIX = ".staging-"


def _remove_stale_staging(results_dir: Path) -> None:
    """Staging folders of runs killed while writing (only the lock holder writes one)."""
    for stale in results_dir.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def _write_folder(final: Path, data: RunData, record: dict, extra_files) -> Path:
    """Write into a staging folder, then rename it: a failed run leaves no directory."""
    staging = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{final.name}.", dir=final.parent))
        (staging / "run.json").write_text(json.dumps(record, indent=2) + "\n")
        clips = {} if data.clip_of_patch is None else {"clip_of_patch": data.clip_of_patch}
        np.savez_compressed(staging / "outputs.npz", inputs=data.inputs, device=data.device_outputs,
                            golden=data.golden_outputs, **clips)
        extra_files(staging, record)
        os.chmod(staging, 0o755)
        os.rename(staging, final)
    except OSError as exc:
        raise HilError(f"cannot write the run {final.name} into {final.parent}: {exc.strerror or exc}; "
                       f"nothing of it was kept") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return final


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
