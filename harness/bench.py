"""`hil bench`: the main job. Build, load, stream reference patches, time the model, measure the
footprint, then write a run directory (docs/results.md), append the history and print the tables.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import defaults
from harness.build.footprint import measure_footprint
from harness.compiler import compile_file
from harness.device.board import Board
from harness.device.loaders import check_loadable
from harness.device.session import open_device
from harness.errors import HilError
from harness.inputs import reference_patches
from harness.parity.golden import golden_outputs
from harness.parity.localize import first_difference, first_differing_patch
from harness.parity.metrics import parity_metrics
from harness.results.record import RunData, latency_record, publish_run, utc_now, writable_results_dir
from harness.results.report import first_difference_text, inference_text, io_text, link_text, write_report_files
from harness.results.schema import FOOTPRINT_KEYS


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    model_path: Path
    board: Board
    patches: int = defaults.PATCHES
    timing_runs: int = defaults.TIMING_RUNS
    results_dir: Path = defaults.RESULTS_DIR
    name: str | None = None
    extra_cflags: tuple[str, ...] = ()


def _board(options: BenchOptions) -> Board:
    board = options.board
    if options.extra_cflags:  # an experiment's flags join the build id and the cache key
        target = dataclasses.replace(board.target, cflags=board.target.cflags + options.extra_cflags)
        board = dataclasses.replace(board, target=target)
    return board


@contextmanager
def _phase(progress: Progress, description: str):
    task = progress.add_task(description, total=None)
    yield
    progress.update(task, total=1, completed=1)


def bench(options: BenchOptions, console: Console) -> tuple[Path, dict]:
    for option, value in (("--patches", options.patches), ("--timing-runs", options.timing_runs)):
        if value < 1:
            raise HilError(f"{option} must be at least 1 (got {value})")
    board = _board(options)
    target = board.target
    check_loadable(board)  # no board, no pack: said in seconds, before the golden and the build
    results_dir = writable_results_dir(options.results_dir)
    started = utc_now()
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )
    with Progress(*columns, console=console, transient=False) as progress:
        with _phase(progress, "compile the model"):
            model = compile_file(options.model_path, options.name)
        inputs = reference_patches(model.graph, options.patches)
        with _phase(progress, "golden outputs (LiteRT reference kernels)"):
            golden = golden_outputs(options.model_path, inputs)
        starting = progress.add_task(f"build and start the firmware on {target.id}", total=None)
        with open_device(model, board) as device:
            progress.update(starting, total=1, completed=1)
            streaming = progress.add_task(f"stream patches to {target.id}", total=options.patches)
            run = device.run(inputs, on_patch=lambda i: progress.update(streaming, completed=i + 1))
            differing = first_differing_patch(run.outputs, golden)
            if differing is not None:
                with _phase(progress, f"find the first layer that differs for patch {differing}"):
                    difference = first_difference(device, model, options.model_path, inputs, differing)
            with _phase(progress, f"time {options.timing_runs} inferences"):
                timing = device.time(inputs[-1], options.timing_runs)
            with _phase(progress, "measure the stack of one inference"):
                stack = device.measure_stack(inputs[-1])
            image, info = device.image, device.info
    data = RunData(
        image=image,
        device=info,
        started=started,
        inputs=inputs,
        device_outputs=run.outputs,
        golden_outputs=golden,
        parity=parity_metrics(run.outputs, golden, model, run.retransmits)
        | ({} if differing is None else {"first_difference": difference.to_json()}),
        latency=latency_record(timing.unit, timing.totals, timing.per_layer, image, info.counter_hz),
        throughput={"patches_per_second": options.patches / run.seconds, "bytes_per_patch": inputs[0].nbytes},
        footprint=measure_footprint(image, stack).to_json(),
    )
    return publish_run(results_dir, data, write_report_files)


def summary_tables(record: dict, folder: Path) -> list[Table]:
    parity, latency, footprint = record["parity"], record["latency"], record["footprint"]
    env = record["environment"]
    headline = Table(title=f"{env['model_name']} on {env['target']}", show_header=False)
    headline.add_row("parity", f"{parity['exact_patches']}/{parity['patches']} patches bit-exact, "
                     f"max diff {parity['max_abs_diff_lsb']} LSB, top-1 {100 * parity['top1_agreement']:.1f} %")
    if "before_dequantize" in parity:
        before = parity["before_dequantize"]
        headline.add_row("int8 before DEQUANTIZE", f"{before['exact_patches']}/{parity['patches']} patches bit-exact, "
                         f"max diff {before['max_abs_diff_lsb']} LSB")
    if "first_difference" in parity:
        headline.add_row("first difference", first_difference_text(parity["first_difference"]))
    headline.add_row("model", io_text(record))
    headline.add_row("latency", f"{inference_text(latency)}; min {latency['min']}, max {latency['max']}")
    headline.add_row("link", f"{link_text(record)}, {parity['retransmits']} retransmissions")
    headline.add_row("results", str(folder))
    sizes = Table(title="footprint (bytes)")
    for key in FOOTPRINT_KEYS:
        sizes.add_column(key.replace("_", " "), justify="right")
    sizes.add_row(*(("n/a" if footprint[k] is None else str(footprint[k])) for k in FOOTPRINT_KEYS))
    return [headline, sizes]
