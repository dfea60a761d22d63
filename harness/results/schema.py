"""Load and validate a run.json (docs/results.md, schema_version 2; version 1 is read too).

The JSON Schema (run.schema.json, beside this file) says which keys exist and what type each
has; the checks after it are the relations a schema cannot state (totals are sums, the tree
sums to the image, only cycles become milliseconds). Every failure is a HilError that names
the file and the key.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema

from harness.errors import HilError
from harness.io import json_schema_validator

SCHEMA_VERSION = 2
# Version 1 lacked the device block (what the device reported of itself); it reads as unknown.
_UPGRADES = {1: lambda run: {**run, "schema_version": 2,
                             "device": {"counter_unit": None, "counter_hz": None, "reset_reason": None}}}
# The footprint figures of the published table, judged by compare and kept in the history.
FOOTPRINT_KEYS = ("activation_ram", "runtime_ram", "weights_flash", "code_flash", "total_ram", "total_flash")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # environment.date
SCHEMA_PATH = Path(__file__).with_name("run.schema.json")
RUN_FILE = "run.json"
_MAX_ERRORS = 5


def _validator() -> jsonschema.protocols.Validator:
    return json_schema_validator(SCHEMA_PATH)


def run_json_path(path: Path | str) -> Path:
    """A run directory's run.json, or the path itself when it names a file."""
    path = Path(path)
    return path / RUN_FILE if path.is_dir() else path


def load_run(path: Path | str) -> dict:
    """Read and validate a run: a run directory or its run.json. Returns the run as a dict."""
    given = Path(path)
    file = run_json_path(given)
    if not file.exists():
        if given.is_dir():
            raise HilError(f"{given}: no {RUN_FILE} in this folder; pass a run directory written by `hil bench`")
        raise HilError(f"{file}: no such file or directory (expected a run directory or a {RUN_FILE})")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise HilError(f"{file}: not valid JSON (not UTF-8 text)") from None
    except OSError as exc:
        raise HilError(f"{file}: cannot read it ({exc.strerror})") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise HilError(f"{file}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise HilError(f"{file}: not valid JSON ({exc})") from None
    return validate_run(data, str(file))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; an unknown value is written null")


def validate_run(data: Any, source: str = "run") -> dict:
    """Check a run dict against the schema and the relations between its figures.

    `source` names where it came from (a file, or e.g. "baseline") in the error message."""
    if not isinstance(data, dict):
        raise HilError(f"{source}: expected a JSON object (a run.json), found {type(data).__name__}")
    version = data.get("schema_version")
    if type(version) is int and version in _UPGRADES:
        data = _UPGRADES[version](data)
    if "schema_version" in data and data["schema_version"] != SCHEMA_VERSION:
        raise HilError(
            f"{source}: schema_version {data['schema_version']!r}, but this harness reads schema_version "
            f"{SCHEMA_VERSION}; it was written by another version of hil"
        )
    errors = sorted(_validator().iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    problems = [_describe(error) for error in errors] + (_relations(data) if not errors else [])
    if problems:
        shown = "; ".join(problems[:_MAX_ERRORS])
        more = f" (and {len(problems) - _MAX_ERRORS} more)" if len(problems) > _MAX_ERRORS else ""
        raise HilError(f"{source}: not a valid run.json (schema_version {SCHEMA_VERSION}): {shown}{more}")
    return data


def _key(path) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[") or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    where = list(error.absolute_path)
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return ", ".join(f"missing key '{_key([*where, k])}'" for k in missing)
    if error.validator == "const" and where == ["schema_version"]:
        return f"schema_version must be {SCHEMA_VERSION}"
    return f"{_key(where)}: {error.message}"


def _relations(run: dict) -> list[str]:
    """What docs/results.md says about how the figures relate; checked where both sides are known."""
    problems = []
    parity, footprint, latency = run["parity"], run["footprint"], run["latency"]
    if parity["exact_patches"] > parity["patches"]:
        problems.append(
            f"parity.exact_patches ({parity['exact_patches']}) exceeds parity.patches ({parity['patches']})")
    sums = (("total_ram", ("activation_ram", "runtime_ram")), ("total_flash", ("weights_flash", "code_flash")))
    for total, parts in sums:
        values = [footprint[k] for k in (total, *parts)]
        if None not in values and values[0] != sum(values[1:]):
            problems.append(f"footprint.{total} ({values[0]}) is not {' + '.join(parts)} ({sum(values[1:])})")
    for memory in ("flash", "ram"):
        owners = footprint["tree"][memory]
        whole = footprint[f"elf_{memory}"]
        if whole is not None and None not in owners.values() and sum(owners.values()) != whole:
            problems.append(f"footprint.tree.{memory} sums to {sum(owners.values())}, not elf_{memory} ({whole})")
    if latency["unit"] != "cycles" and latency["ms_at_clock"] is not None:
        problems.append(f"latency.ms_at_clock must be null for unit '{latency['unit']}' (only cycles become time)")
    if "accuracy" in run:
        problems += _accuracy_relations(run["accuracy"])
    problems += [f"{_key(path)} is {value}, not a number; an unknown value is null" for path, value in _non_finite(run)]
    env = run["environment"]
    suffix = f"_{env['target']}_{env['model_name']}"
    if not run["run_id"].endswith(suffix):
        problems.append(f"run_id '{run['run_id']}' does not end with '{suffix}' (its target and model_name)")
    return problems


def _accuracy_relations(block: dict) -> list[str]:
    """The accuracy block's figures against its counts: the confusion holds every clip once and its
    diagonal is the device's accuracy; agreement is the share of clips not listed as disagreeing."""
    problems = []
    clips, classes = block["clips"], len(block["classes"])
    if block["labelled"] != (block["device"] is not None):
        problems.append("accuracy.device must be a number exactly when accuracy.labelled is true")
    agreeing = (clips - len(block["disagreements"])) / clips
    if not math.isclose(block["agreement"], agreeing, abs_tol=1e-12):
        problems.append(f"accuracy.agreement ({block['agreement']}) is not the share of clips without a "
                        f"disagreement ({agreeing})")
    matrix = block["confusion"]
    if matrix is None:
        return problems
    if len(matrix) != classes or any(len(row) != classes for row in matrix):
        return [*problems, f"accuracy.confusion is not {classes} x {classes} (one row and column per class)"]
    if sum(map(sum, matrix)) != clips:
        problems.append(f"accuracy.confusion holds {sum(map(sum, matrix))} clips, not accuracy.clips ({clips})")
    elif block["device"] is not None and not math.isclose(
            block["device"], sum(matrix[i][i] for i in range(classes)) / clips, abs_tol=1e-12):
        problems.append(f"accuracy.device ({block['device']}) is not the confusion's diagonal over accuracy.clips")
    return problems


def _non_finite(value: Any, path: tuple = ()):
    """NaN and infinities, which JSON cannot carry (a dict built in Python can)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))
