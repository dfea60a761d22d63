"""`hil report`: trend charts and a summary from results/history.csv.

One PNG per metric per target (a line per model), named `<target>_<metric>.png`, and
`summary.md`: per target and model, the latest value, the best, the worst and the change
since the first run. Values that are unknown (null) are left out of lines and figures; the
latest, first, best and worst are taken among the runs where the value is known.

Charts are drawn with matplotlib's object API on an Agg canvas: no pyplot, no global backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import HilError
from harness.io import write_atomically
from harness.results.history import history_path, load_history


@dataclass(frozen=True)
class Metric:
    key: str  # file name part and history column (exact_ratio is computed)
    title: str
    lower_is_better: bool


METRICS = (
    Metric("latency_median", "median latency", True),
    Metric("total_ram", "total RAM (bytes)", True),
    Metric("total_flash", "total flash (bytes)", True),
    Metric("exact_ratio", "bit-exact patches (exact_patches / patches)", False),
)
SUMMARY_FILE = "summary.md"


def chart_name(target: str, metric: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', target)}_{metric}.png"


def _with_ratio(history: pd.DataFrame) -> pd.DataFrame:
    table = history.copy()
    patches = table["patches"].astype("Float64")
    table["exact_ratio"] = (table["exact_patches"].astype("Float64") / patches).where(patches > 0)
    return table


def _series(runs: pd.DataFrame, metric: Metric) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows with a known value, in date order) per model; latency per model and unit."""
    keys = ["model_name", "latency_unit"] if metric.key == "latency_median" else ["model_name"]
    out = []
    for values, group in runs.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        known = group[group[metric.key].notna()].sort_values("date", kind="stable")
        label = values[0] if len(values) == 1 else f"{values[0]} ({values[1]})"
        out.append((str(label), known))
    return out


def render_report(results_dir: Path | str, out_dir: Path | str) -> list[Path]:
    """Write the charts and summary.md into out_dir; returns the files written."""
    path = history_path(results_dir)
    if not path.exists():
        raise HilError(f"{path}: no history yet; `hil bench` adds one row per run, then `hil report` can chart it")
    history = load_history(results_dir)
    if history.empty:
        raise HilError(f"{path}: the history has no runs yet; run `hil bench` first")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot create the report folder {out_dir} ({exc.strerror})") from None
    history = _with_ratio(history)
    written = []
    for target, runs in history.groupby("target", sort=True):
        for metric in METRICS:
            chart = out_dir / chart_name(str(target), metric.key)
            _chart(chart, str(target), runs, metric)
            written.append(chart)
    summary = out_dir / SUMMARY_FILE
    text = summary_markdown(history, path)
    write_atomically(summary, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    written.append(summary)
    return written


def _chart(path: Path, target: str, runs: pd.DataFrame, metric: Metric) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter, StrMethodFormatter

    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    drawn = 0
    for label, known in _series(runs, metric):
        if known.empty:
            continue
        dates = known["date"].dt.tz_convert(None).to_numpy()
        axes.plot(dates, known[metric.key].astype(float).to_numpy(), marker="o", label=label)
        drawn += 1
    title = metric.title
    if metric.key == "latency_median":
        units = sorted(set(runs["latency_unit"].dropna()))
        title += f" ({', '.join(units)})" if units else ""
    axes.set_title(f"{target}: {title}")
    axes.set_xlabel("run date (UTC)")
    if drawn:
        locator = AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        axes.legend(loc="best")
        if metric.key == "exact_ratio":
            axes.set_ylim(-0.02, 1.02)
            axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        else:
            axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    else:
        axes.text(0.5, 0.5, "no known values", ha="center", va="center", transform=axes.transAxes)
    axes.grid(True, alpha=0.3)
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", metadata={"Software": None}))


def _format(metric: Metric, value) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if metric.key == "exact_ratio":
        return f"{100 * float(value):.1f} %"
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def _change(metric: Metric, first, last) -> str:
    if metric.key == "exact_ratio":
        return f"{100 * (float(last) - float(first)):+.1f} points"
    delta = float(last) - float(first)
    text = f"{int(delta):+d}" if delta.is_integer() else f"{delta:+.6g}"
    return text + (f" ({delta / float(first) * 100:+.2f} %)" if float(first) != 0 else "")


@dataclass(frozen=True)
class SummaryRow:
    metric: Metric
    label: str  # the metric's title, with the latency unit
    runs: int  # runs of this target and model
    known: pd.DataFrame  # the runs where the value is known, in date order

    @property
    def values(self) -> pd.Series:
        return self.known[self.metric.key]

    @property
    def latest(self):
        return self.values.iloc[-1] if len(self.known) else None

    @property
    def first(self):
        return self.values.iloc[0] if len(self.known) else None

    @property
    def best(self):
        if not len(self.known):
            return None
        return self.values.min() if self.metric.lower_is_better else self.values.max()

    @property
    def worst(self):
        if not len(self.known):
            return None
        return self.values.max() if self.metric.lower_is_better else self.values.min()

    def cells(self) -> list[str]:
        if not len(self.known):
            return [self.label, "n/a", "n/a", "n/a", "n/a", f"0 of {self.runs}"]
        latest = _format(self.metric, self.latest)
        if self.metric.key == "exact_ratio":
            last = self.known.iloc[-1]
            latest = f"{last['exact_patches']}/{last['patches']} ({latest})"
        return [self.label, latest, _format(self.metric, self.best), _format(self.metric, self.worst),
                _change(self.metric, self.first, self.latest), f"{len(self.known)} of {self.runs}"]


def summary_rows(runs: pd.DataFrame) -> list[SummaryRow]:
    """The summary of one target and model: a row per metric (per latency unit)."""
    runs = runs if "exact_ratio" in runs else _with_ratio(runs)
    rows = []
    for metric in METRICS:
        for label, known in _series(runs, metric):
            if metric.key == "latency_median":
                unit = runs.loc[known.index, "latency_unit"] if len(known) else runs["latency_unit"]
                units = sorted(set(unit.dropna()))
                label = f"{metric.title} ({', '.join(units) or 'unit unknown'})"
            else:
                label = metric.title
            rows.append(SummaryRow(metric, label, len(runs), known))
    return rows


def summary_markdown(history: pd.DataFrame, source: Path) -> str:
    history = history if "exact_ratio" in history else _with_ratio(history)
    dates = history["date"].dropna()
    lines = [
        "# Results summary",
        "",
        f"From `{source}`: {len(history)} run{'s' if len(history) != 1 else ''}"
        + (f", {dates.min():%Y-%m-%d %H:%M} to {dates.max():%Y-%m-%d %H:%M} UTC." if len(dates) else "."),
        "Latest, first, best and worst are taken among the runs where the value is known (not null); "
        "the change is latest minus first.",
    ]
    for (target, model), runs in history.groupby(["target", "model_name"], sort=True):
        runs = runs.sort_values("date", kind="stable")
        versions = runs["model_sha256"].nunique()
        lines += [
            "",
            f"## {target} / {model}",
            "",
            f"{len(runs)} run{'s' if len(runs) != 1 else ''}, latest `{runs['run_id'].iloc[-1]}`"
            + (f"; {versions} different model files (sha256)" if versions > 1 else "") + ".",
            "",
            "| metric | latest | best | worst | change since first | runs with a value |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += ["| " + " | ".join(row.cells()) + " |" for row in summary_rows(runs)]
    lines += ["", "## Charts", ""]
    for target in sorted(history["target"].dropna().unique()):
        for metric in METRICS:
            lines.append(f"![{target}: {metric.title}]({chart_name(str(target), metric.key)})")
    return "\n".join(lines) + "\n"
