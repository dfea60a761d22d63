"""results/history.csv: one row per run, in the columns of docs/results.md.

Appending rewrites the whole file through a temporary file and a rename, under a lock, so
two runs finishing together both land and a crash never leaves half a file. A file this
module cannot read is never overwritten: the error says to move it aside.
"""

from __future__ import annotations

import csv
import fcntl
import io
import math
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from harness.errors import HilError
from harness.io import write_atomically
from harness.results.schema import DATE_FORMAT, FOOTPRINT_KEYS, validate_run

HISTORY_FILE = "history.csv"
LOCK_FILE = ".history.lock"

COLUMNS = (
    "run_id", "date", "target", "model_name", "model_sha256", "git_sha",
    "patches", "exact_patches", "max_abs_diff_lsb", "top1_agreement", "retransmits",
    "latency_unit", "latency_median", "latency_min", "latency_max", *FOOTPRINT_KEYS,
)
TEXT_COLUMNS = ("run_id", "target", "model_name", "model_sha256", "git_sha", "latency_unit")
INTEGER_COLUMNS = (
    "patches", "exact_patches", "max_abs_diff_lsb", "retransmits", *FOOTPRINT_KEYS,
)
REAL_COLUMNS = ("top1_agreement", "latency_median", "latency_min", "latency_max")


def history_path(results_dir: Path | str) -> Path:
    return Path(results_dir) / HISTORY_FILE


def history_row(run: dict) -> dict:
    """The history columns of one run (values as in run.json: numbers, str, or None)."""
    env, parity, latency, footprint = run["environment"], run["parity"], run["latency"], run["footprint"]
    return {
        "run_id": run["run_id"],
        "date": env["date"],
        "target": env["target"],
        "model_name": env["model_name"],
        "model_sha256": env["model_sha256"],
        "git_sha": env["git_sha"],
        **{key: parity[key] for key in (
            "patches", "exact_patches", "max_abs_diff_lsb", "top1_agreement", "retransmits")},
        "latency_unit": latency["unit"],
        "latency_median": latency["median"],
        "latency_min": latency["min"],
        "latency_max": latency["max"],
        **{key: footprint[key] for key in FOOTPRINT_KEYS},
    }


def _cell(value) -> str:
    """How a value is written: null as an empty cell, numbers exactly (no 213861250.0)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def append_history(results_dir: Path | str, run: dict) -> Path:
    """Add the run's row to results_dir/history.csv (created with its header if absent)."""
    with results_lock(Path(results_dir)):
        return add_history_row(results_dir, run)


def add_history_row(results_dir: Path | str, run: dict) -> Path:
    """append_history for a caller that already holds results_lock(results_dir)."""
    run = validate_run(run, f"run {run.get('run_id', '?')}" if isinstance(run, dict) else "run")
    path = history_path(results_dir)
    existing = _read_text_cells(path) if path.exists() else pd.DataFrame(columns=list(COLUMNS), dtype=object)
    _parse(existing, path)  # refuse to extend a file whose values are not readable
    if run["run_id"] in set(existing["run_id"]):
        raise HilError(f"{path}: run {run['run_id']} is already in the history")
    row = pd.DataFrame([{k: _cell(v) for k, v in history_row(run).items()}], columns=list(COLUMNS), dtype=object)
    table = pd.concat([existing, row], ignore_index=True) if len(existing) else row
    write_atomically(path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))
    return path


def load_history(results_dir: Path | str) -> pd.DataFrame:
    """The history as a DataFrame in run order; no file yet gives an empty one with the columns.

    Integer columns are nullable Int64, latency and top-1 Float64, text columns str with
    missing values as <NA>, `date` a UTC timestamp."""
    path = history_path(results_dir)
    cells = _read_text_cells(path) if path.exists() else pd.DataFrame(columns=list(COLUMNS), dtype=object)
    return _parse(cells, path)


def _corrupt(path: Path, what: str) -> HilError:
    return HilError(
        f"{path}: not a history file hil can read ({what}); it is left as it is: move it aside "
        f"(e.g. mv {path} {path}.bad) and the next run starts a new history"
    )


def _read_text_cells(path: Path) -> pd.DataFrame:
    """The file's cells as strings, after checking its header and that every row has every column."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except UnicodeDecodeError:
        raise _corrupt(path, "not UTF-8 text") from None
    except csv.Error as exc:
        raise _corrupt(path, f"not CSV: {exc}") from None
    except OSError as exc:
        raise HilError(f"{path}: cannot read it ({exc.strerror})") from None
    if not rows:
        raise _corrupt(path, "empty, without the header line")
    if tuple(rows[0]) != COLUMNS:
        raise _corrupt(path, f"its header is not the columns of docs/results.md: {','.join(rows[0])[:200]}")
    if "\r" in text:  # hil writes "\n" only: the file was edited or copied elsewhere
        line = text[:text.index("\r")].count("\n") + 1
        raise _corrupt(path, f"line {line} ends with CRLF or holds a carriage return; hil writes LF line ends")
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != len(COLUMNS):
            raise _corrupt(path, f"row {number} has {len(row)} fields, not {len(COLUMNS)}")
        if row[0] in seen:
            raise _corrupt(path, f"rows {seen[row[0]]} and {number} are the same run {row[0]}")
        seen[row[0]] = number
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _corrupt(path, f"not CSV: {exc}") from None


def _parse(cells: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Typed columns from text cells; an empty cell is null, anything unparsable is an error."""
    table = pd.DataFrame(index=cells.index)
    for column in COLUMNS:
        text = cells[column].astype(object)
        empty = text == ""
        if column in TEXT_COLUMNS:
            table[column] = text.where(~empty, pd.NA).astype("string")
            continue
        if column == "date":
            values = pd.to_datetime(text.where(~empty, None), format=DATE_FORMAT, utc=True, errors="coerce")
        else:
            values = pd.to_numeric(text.where(~empty, None), errors="coerce")
        bad = values.isna() & ~empty
        if column != "date":
            bad |= values.map(lambda v: isinstance(v, float) and math.isinf(v))
        if column in INTEGER_COLUMNS:
            bad |= values.map(lambda v: isinstance(v, float) and math.isfinite(v) and not v.is_integer())
        if bad.any():
            first = bad.to_numpy().nonzero()[0][0]
            raise _corrupt(path, f"row {first + 1}, column {column}: {text.iloc[first]!r} is not a "
                                 f"{'date like 2026-11-25T06:15:02Z' if column == 'date' else 'number'}")
        if column in INTEGER_COLUMNS:
            values = values.astype("Float64").astype("Int64")
        elif column in REAL_COLUMNS:
            values = values.astype("Float64")
        table[column] = values
    return table.reset_index(drop=True)


@contextmanager
def results_lock(results_dir: Path):
    """Serialise the runs sharing a results folder while they choose a run id, write their run
    folder and append their history row (harness/results/record.py)."""
    if not results_dir.is_dir():
        raise HilError(f"the results folder {results_dir} does not exist")
    try:
        lock = open(results_dir / LOCK_FILE, "a")
    except OSError as exc:
        raise HilError(f"cannot write in the results folder {results_dir} ({exc.strerror})") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
