"""`hil bench`: the main job. Build, load, stream reference patches (or, with a dataset, every
clip's patches), time the model, measure the footprint, then write a run directory
(docs/results.md), append the history and print the tables.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import defaults
from harness.accuracy.clips import ClipPatches
from harness.accuracy.float_model import float_outputs
from harness.accuracy.options import AccuracyOptions
from harness.accuracy.run import ClipOutputs, accuracy_block, prepare_clips, with_model_defaults
from harness.build.footprint import measure_footprint
from harness.compiler import CompiledModel, compile_file
from harness.device.board import Board
from harness.device.loaders import check_loadable
from harness.device.session import Device, RunResult, open_device
from harness.errors import HilError
from harness.inputs import reference_patches
from harness.parity.golden import golden_outputs
from harness.parity.localize import first_difference, first_differing_patch
from harness.parity.metrics import parity_metrics
from harness.results.record import RunData, latency_record, publish_run, utc_now, writable_results_dir
from harness.results.report import (
    first_difference_text,
    inference_text,
    io_text,
    link_text,
    percent,
    write_report_files,
)
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
    dataset: AccuracyOptions | None = None  # clips instead of reference patches, and their accuracy


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
    if options.dataset is not None:
        options = dataclasses.replace(options, dataset=with_model_defaults(options.dataset, options.model_path))
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
        clips = None
        if options.dataset is None:
            inputs = reference_patches(model.graph, options.patches)
        else:
            clips = _clip_patches(options, model, progress)
            inputs = clips.inputs
        with _phase(progress, "golden outputs (LiteRT reference kernels)"):
            golden = golden_outputs(options.model_path, inputs)
        starting = progress.add_task(f"build and start the firmware on {target.id}", total=None)
        with open_device(model, board) as device:
            progress.update(starting, total=1, completed=1)
            run = _stream(device, inputs, clips, progress)
            differing = first_differing_patch(run.outputs, golden)
            if differing is not None:
                with _phase(progress, f"find the first layer that differs for patch {differing}"):
                    difference = first_difference(device, model, options.model_path, inputs, differing)
            with _phase(progress, f"time {options.timing_runs} inferences"):
                timing = device.time(inputs[-1], options.timing_runs)
            with _phase(progress, "measure the stack of one inference"):
                stack = device.measure_stack(inputs[-1])
            image, info = device.image, device.info
        accuracy = None if clips is None else _accuracy(options.dataset, clips, run, golden, progress)
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
        throughput={"patches_per_second": len(inputs) / run.seconds, "bytes_per_patch": inputs[0].nbytes},
        footprint=measure_footprint(image, stack).to_json(),
        accuracy=accuracy,
        clip_of_patch=None if clips is None else clips.clip_of_patch,
    )
    return publish_run(results_dir, data, write_report_files)


def _clip_patches(options: BenchOptions, model: CompiledModel, progress: Progress) -> ClipPatches:
    dataset = options.dataset
    reading = progress.add_task(f"front end ({dataset.frontend}) over the clips of {dataset.dataset.name}", total=None)
    return prepare_clips(dataset, options.model_path, model,
                         on_clip=lambda done, total: progress.update(reading, completed=done, total=total))


def _stream(device: Device, inputs: np.ndarray, clips: ClipPatches | None, progress: Progress) -> RunResult:
    """Every patch through the device in this one session; the bar counts clips when there are clips."""
    target = device.image.target.id
    if clips is None:
        streaming = progress.add_task(f"stream patches to {target}", total=len(inputs))
        return device.run(inputs, on_patch=lambda i: progress.update(streaming, completed=i + 1))
    streaming = progress.add_task(f"stream {clips.clips} clips ({len(inputs)} patches) to {target}",
                                  total=clips.clips)
    # Clips finished once patch i is back: those before its clip, and its own if it is the clip's last.
    owner = clips.clip_of_patch
    finished = owner + np.append(owner[1:] != owner[:-1], True)
    return device.run(inputs, on_patch=lambda i: progress.update(streaming, completed=int(finished[i])))


def _accuracy(dataset: AccuracyOptions, clips: ClipPatches, run: RunResult, golden: np.ndarray,
              progress: Progress) -> dict:
    """The accuracy block; the float model runs once the device is released."""
    floating = None
    if dataset.float_model is not None:
        with _phase(progress, f"float model {dataset.float_model.name}"):
            floating = float_outputs(dataset.float_model, clips.float_patches)
    return accuracy_block(clips, ClipOutputs(run.outputs, golden, floating, run.seconds), dataset)


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
    return [headline, sizes] + ([accuracy_summary(record["accuracy"])] if "accuracy" in record else [])


def accuracy_summary(block: dict) -> Table:
    skipped = len(block["dataset"]["skipped"])
    left_out = f" ({skipped} left out with --skip-bad)" if skipped else ""
    table = Table(title=f"clip-level accuracy: {block['dataset']['name']}{left_out}", show_header=False)
    table.add_row("clips", f"{block['clips']} clips, {block['patches']} patches, front end "
                           f"{block['frontend']['name']}, {block['aggregation']} per clip")
    table.add_row("accuracy", f"float {percent(block['float'])}, golden int8 {percent(block['golden'])}, "
                              f"device {percent(block['device'])}")
    agreeing = block["clips"] - len(block["disagreements"])
    table.add_row("agreement", f"device = golden on {agreeing}/{block['clips']} clips ({percent(block['agreement'])})")
    table.add_row("time", f"{block['seconds_per_clip']:.2f} s per clip end to end (front end and device)")
    return table
