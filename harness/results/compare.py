"""`hil compare`: a candidate run against a baseline, one row per metric, with a verdict.

The rules (docs/results.md):

- parity: any loss regresses (fewer exact patches, a larger max diff, lower top-1 agreement,
  a lower cosine, a larger relative L2, RMSE or MAE, the last four beyond float rounding);
  no threshold;
- latency: the median up by more than `latency.instructions` % (default 2) or
  `latency.cycles` % (default 5); ns (host) is reported, never judged;
- footprint: activation_ram, runtime_ram, weights_flash, code_flash, total_ram and
  total_flash up by more than `footprint.<key>` % (default 1 each).

A judged metric that moved the other way by more than its threshold is "better"; an unknown
value on either side, or a metric that is only reported, is "info".

Latency and footprint depend on the environment that built the firmware (target, model,
compiler, flags): when any of these differs between the two runs, they are reported but not
judged, and the comparison names what differs. Parity does not depend on it (bit-exactness is
the same on every machine) and is judged always.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from harness.errors import HilError
from harness.results.schema import FOOTPRINT_KEYS, validate_run

OK, BETTER, REGRESSION, INFO = "ok", "better", "regression", "info"
VERDICTS = (OK, BETTER, REGRESSION, INFO)

JUDGED_LATENCY_UNITS = ("instructions", "cycles")

STATISTICS_ROUNDING = 1e-9  # absolute: below it, cosine / L2 / RMSE / MAE differences are float rounding

DEFAULT_THRESHOLDS: dict[str, float] = {
    "latency.instructions": 2.0,
    "latency.cycles": 5.0,
    **{f"footprint.{key}": 1.0 for key in FOOTPRINT_KEYS},
}


@dataclass(frozen=True)
class Thresholds:
    """Percent by which a latency or footprint figure may grow before it is a regression."""

    percent: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    def __getitem__(self, name: str) -> float:
        return self.percent[name]

    @classmethod
    def load(cls, file: Path | str | None = None, overrides: Iterable[str] = ()) -> Thresholds:
        """The defaults, then a TOML file, then NAME=PERCENT overrides (later wins).

        The file uses the same names as tables and keys:

            [latency]
            instructions = 2.0
            [footprint]
            total_flash = 0.5
        """
        percent = dict(DEFAULT_THRESHOLDS)
        if file is not None:
            percent.update(_from_toml(Path(file)))
        for text in overrides:
            name, sep, value = text.partition("=")
            if not sep:
                raise HilError(f"--threshold {text!r}: expected NAME=PERCENT, e.g. latency.instructions=3")
            name = name.strip()
            _check_name(name, f"--threshold {text!r}")
            percent[name] = _check_value(value.strip().removesuffix("%").strip(), f"--threshold {text!r}")
        return cls(percent)


def _check_name(name: str, where: str) -> None:
    if name in DEFAULT_THRESHOLDS:
        return
    hint = " (ns latency is reported, never judged)" if name == "latency.ns" else ""
    raise HilError(f"{where}: unknown threshold '{name}'{hint}; known: {', '.join(DEFAULT_THRESHOLDS)}")


def _check_value(value, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise HilError(f"{where}: {value!r} is not a percentage (a number, e.g. 2 or 2.5)") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HilError(f"{where}: {value!r} is not a percentage (a number, e.g. 2 or 2.5)")
    if not math.isfinite(value) or value < 0:
        raise HilError(f"{where}: {value!r} is not a percentage of 0 or more")
    return float(value)


def _from_toml(path: Path) -> dict[str, float]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HilError(f"{path}: no such thresholds file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HilError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise HilError(f"{path}: not valid TOML ({exc})") from None
    flat: dict[str, float] = {}

    def walk(table: dict, prefix: str) -> None:
        for key, value in table.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, f"{name}.")
            else:
                _check_name(name, str(path))
                flat[name] = _check_value(value, f"{path}: {name}")

    walk(data, "")
    return flat


@dataclass(frozen=True)
class Row:
    metric: str  # e.g. "latency.median", "footprint.total_flash"
    baseline: float | int | None
    candidate: float | int | None
    delta: float | int | None  # candidate - baseline
    delta_percent: float | None  # relative to the baseline; None when unknown or the baseline is 0
    verdict: str  # one of VERDICTS
    note: str = ""


@dataclass(frozen=True)
class EnvironmentDifference:
    part: str  # one of ENVIRONMENT_PARTS
    baseline: str
    candidate: str

    def __str__(self) -> str:
        return f"{self.part} (baseline: {self.baseline}; candidate: {self.candidate})"


def _model_identity(env: dict) -> str:
    return f"{env['model_name']} sha256 {env['model_sha256']}"


# What latency and footprint figures depend on besides the code, as the environment block says it.
ENVIRONMENT_PARTS = {
    "target": lambda env: env["target"],
    "model": _model_identity,
    "compiler": lambda env: str(env["compiler"]),  # null: unknown, never equal to a known one
    "flags": lambda env: " ".join(env["flags"]),
}


def environment_differences(baseline_env: dict, candidate_env: dict) -> tuple[EnvironmentDifference, ...]:
    differences = []
    for part, describe in ENVIRONMENT_PARTS.items():
        b, c = describe(baseline_env), describe(candidate_env)
        if b != c or (part == "compiler" and baseline_env["compiler"] is None):
            differences.append(EnvironmentDifference(part, b, c))
    return tuple(differences)


@dataclass(frozen=True)
class Comparison:
    baseline_id: str
    candidate_id: str
    model_name: str
    target: str
    rows: tuple[Row, ...]
    environment_differences: tuple[EnvironmentDifference, ...] = ()

    @property
    def comparable(self) -> bool:
        """True when latency and footprint were judged: both runs share one environment."""
        return not self.environment_differences

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == REGRESSION]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def row(self, metric: str) -> Row:
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(metric)


def compare(baseline: dict, candidate: dict, thresholds: Thresholds | None = None) -> Comparison:
    """Judge the candidate against the baseline: parity always; latency and footprint only when
    both runs come from the same environment (else they are reported as info)."""
    thresholds = thresholds or Thresholds()
    baseline = validate_run(baseline, "baseline")
    candidate = validate_run(candidate, "candidate")
    differences = environment_differences(baseline["environment"], candidate["environment"])
    environment_rows = [*_latency_rows(baseline["latency"], candidate["latency"], thresholds),
                        _row("throughput.patches_per_second", baseline["throughput"]["patches_per_second"],
                             candidate["throughput"]["patches_per_second"], None,
                             note="end to end, link included; not judged"),
                        *_footprint_rows(baseline["footprint"], candidate["footprint"], thresholds)]
    if differences:
        environment_rows = [_unjudged(row, differences) for row in environment_rows]
    rows = [*_parity_rows(baseline["parity"], candidate["parity"]), *environment_rows]
    env = candidate["environment"]
    return Comparison(baseline["run_id"], candidate["run_id"], env["model_name"], env["target"], tuple(rows),
                      differences)


def _what_differs(differences: tuple[EnvironmentDifference, ...]) -> str:
    """'the compiler differs', 'the compiler and flags differ'."""
    parts = [difference.part for difference in differences]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"the {listed} differ{'s' if len(parts) == 1 else ''}"


def _unjudged(row: Row, differences: tuple[EnvironmentDifference, ...]) -> Row:
    return dataclasses.replace(row, verdict=INFO, note=f"not judged: {_what_differs(differences)}")


def _row(metric, base, cand, worse: str | None, threshold: float = 0.0, note: str = "", rounding: float = 0.0) -> Row:
    """worse: "up" when growth is a loss, "down" when a fall is, None when the metric is only reported.

    rounding: an absolute difference that is float noise, never a change (statistics only)."""
    if base is None or cand is None:
        side = "both runs" if base is None and cand is None else "the baseline" if base is None else "the candidate"
        return Row(metric, base, cand, None, None, INFO, f"unknown in {side}; not judged")
    delta = cand - base
    percent = delta / abs(base) * 100.0 if base != 0 else None
    if worse is None:
        return Row(metric, base, cand, delta, percent, INFO, note)
    loss = delta if worse == "up" else -delta
    # Compare without dividing, so that exactly +2 % of an integer is not 2.0000000000000004 %.
    limit = max(threshold * abs(base) / 100.0, rounding)
    if loss > limit:
        verdict = REGRESSION
    elif -loss > limit:
        verdict = BETTER
    else:
        verdict = OK
    if threshold:
        rule = f"limit {'+' if worse == 'up' else '-'}{threshold:g} %"
    else:
        rule = "any loss regresses" + (f" (beyond float rounding, {rounding:g})" if rounding else "")
    note = f"{note}, {rule}" if note else rule
    return Row(metric, base, cand, delta, percent, verdict, note)


def _parity_rows(b: dict, c: dict) -> list[Row]:
    rows = [_row("parity.patches", b["patches"], c["patches"], None,
                 note="" if b["patches"] == c["patches"] else "different counts: exact patches judged as a fraction")]
    if b["patches"] == c["patches"]:
        rows.append(_row("parity.exact_patches", b["exact_patches"], c["exact_patches"], "down"))
    else:
        fraction = _row("parity.exact_fraction", b["exact_patches"] / b["patches"], c["exact_patches"] / c["patches"],
                        "down")
        rows.append(Row("parity.exact_patches", b["exact_patches"], c["exact_patches"],
                        c["exact_patches"] - b["exact_patches"], None, fraction.verdict,
                        f"{b['exact_patches']}/{b['patches']} vs {c['exact_patches']}/{c['patches']}"))
    for key, worse in (("max_abs_diff_lsb", "up"), ("top1_agreement", "down")):
        rows.append(_row(f"parity.{key}", b[key], c[key], worse))
    # Statistics of float outputs: a cosine of identical vectors can be 1 +- 2e-16.
    for key, worse in (("cosine_min", "down"), ("l2r_max", "up"), ("rmse", "up"), ("mae", "up")):
        rows.append(_row(f"parity.{key}", b[key], c[key], worse, rounding=STATISTICS_ROUNDING))
    rows.append(_row("parity.retransmits", b["retransmits"], c["retransmits"], None, note="link, not parity"))
    return rows


def _latency_rows(b: dict, c: dict, thresholds: Thresholds) -> list[Row]:
    unit = c["unit"]
    if b["unit"] != unit:
        note = f"units differ ({b['unit']} vs {unit}); not judged"
        return [Row(f"latency.{key}", b[key], c[key], None, None, INFO, note) for key in ("median", "min", "max")]
    if unit in JUDGED_LATENCY_UNITS:
        median = _row("latency.median", b["median"], c["median"], "up", thresholds[f"latency.{unit}"], note=unit)
    else:
        median = _row("latency.median", b["median"], c["median"], None, note=f"{unit} (host): reported, never judged")
    rows = [median,
            _row("latency.min", b["min"], c["min"], None, note=unit),
            _row("latency.max", b["max"], c["max"], None, note=unit)]
    if b["ms_at_clock"] is not None or c["ms_at_clock"] is not None:
        rows.append(_row("latency.ms_at_clock", b["ms_at_clock"], c["ms_at_clock"], None, note="follows the median"))
    return rows


def _footprint_rows(b: dict, c: dict, thresholds: Thresholds) -> list[Row]:
    rows = [_row(f"footprint.{key}", b[key], c[key], "up", thresholds[f"footprint.{key}"]) for key in FOOTPRINT_KEYS]
    rows += [_row(f"footprint.{key}", b[key], c[key], None) for key in ("stack_bytes", "elf_flash", "elf_ram")]
    return rows


def _number(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    return str(value)


def format_delta(row: Row) -> str:
    if row.delta is None:
        return ""
    delta = row.delta
    if isinstance(delta, float) and delta.is_integer() and abs(delta) < 1e15:
        delta = int(delta)
    return f"{delta:+.4g}" if isinstance(delta, float) else f"{delta:+d}"


def format_percent(row: Row) -> str:
    if row.delta_percent is None:
        return ""
    return f"{row.delta_percent:+.2f} %"


def comparison_table(comparison: Comparison):
    """The comparison as a rich Table (imported here so the rest of the module needs no rich)."""
    from rich.markup import escape
    from rich.table import Table

    styles = {REGRESSION: "bold red", BETTER: "green", OK: "", INFO: "dim"}
    table = Table(
        title=escape(f"{comparison.model_name} on {comparison.target}: {comparison.candidate_id} vs baseline "
                     f"{comparison.baseline_id}"),
        title_justify="left",
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("baseline", justify="right", no_wrap=True)
    table.add_column("candidate", justify="right", no_wrap=True)
    table.add_column("delta", justify="right", no_wrap=True)
    table.add_column("delta %", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("note")
    for row in comparison.rows:
        style = styles[row.verdict]
        table.add_row(row.metric, _number(row.baseline), _number(row.candidate), format_delta(row),
                      format_percent(row), f"[{style}]{row.verdict}[/]" if style else row.verdict, escape(row.note))
    return table


def environment_text(comparison: Comparison) -> str:
    """What differs between the two runs' environments, and what that means; '' when nothing does."""
    if comparison.comparable:
        return ""
    return (
        "the environments differ: " + "; ".join(str(d) for d in comparison.environment_differences)
        + ". Latency and footprint depend on these, so they are shown but not judged: a difference there is "
        "not a regression of the code. Parity does not depend on them and is judged. Compare against a "
        "baseline made in the candidate's environment (hil baseline save RUN keeps one per target and compiler)."
    )


def verdict_line(comparison: Comparison) -> str:
    regressions = comparison.regressions
    if regressions:
        return f"{len(regressions)} regression{'s' if len(regressions) > 1 else ''}: " + ", ".join(
            row.metric for row in regressions)
    if not comparison.comparable:
        return f"not comparable: {_what_differs(comparison.environment_differences)}; parity shows no regression"
    better = [row.metric for row in comparison.rows if row.verdict == BETTER]
    return "no regression" + (f"; better: {', '.join(better)}" if better else "")
