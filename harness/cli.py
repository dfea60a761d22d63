"""The `hil` command."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from harness import __version__, defaults
from harness.errors import HilError
from harness.targets import DEFAULT_TARGET


def _model_path(path: Path | None) -> Path:
    if path is not None:
        return path
    from harness.models.yamnet256 import default_model_path

    return default_model_path()


def _model_name(args: argparse.Namespace) -> str | None:
    """The C prefix: as asked, else 'yamnet256' for the default model, else from the file name."""
    name = getattr(args, "name", None)
    if name or args.model is not None:
        return name
    from harness.models.yamnet256 import MODEL_NAME

    return MODEL_NAME


def cmd_compile(args: argparse.Namespace) -> int:
    from harness.compiler import compile_graph, read_model
    from harness.compiler.compile import check_fits
    from harness.compiler.plan_report import format_plan
    from harness.io import check_output_folder
    from harness.parity.golden import GoldenModel
    from harness.targets import load_target

    if args.output:
        check_output_folder(args.output, "-o")
    started = time.perf_counter()
    path = _model_path(args.model)
    graph = read_model(path)  # the file's own problems first, in the parser's words
    GoldenModel(path)  # a model the judge cannot run could never be benchmarked: say so before the long work
    model = compile_graph(graph, _model_name(args))
    if args.target:
        check_fits(model, load_target(args.target))
    elapsed = time.perf_counter() - started
    if args.output:
        for path in model.write(args.output):
            print(f"wrote {path}")
    if args.plan:
        print(format_plan(model))
    parts = ", ".join(f"{kind} {size}" for kind, size in model.weights_breakdown.items())
    print(
        f"{model.name}: {len(model.calls)} layers, {model.macs} MACs, arena {model.plan.arena_size} bytes, "
        f"constants {model.weights_bytes} bytes ({parts}), compiled in {elapsed:.2f} s"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from harness.build.export import check_image_fits, write_build
    from harness.build.firmware import build_firmware
    from harness.build.footprint import measure_footprint
    from harness.compiler import compile_file
    from harness.compiler.compile import check_fits
    from harness.io import check_output_folder
    from harness.targets import load_target

    check_output_folder(args.output, "-o")
    target = load_target(args.target)
    model = compile_file(_model_path(args.model), _model_name(args))
    check_fits(model, target)
    image = build_firmware(model, target)
    footprint = measure_footprint(image, None)  # the stack is measured on a device, not in a file
    check_image_fits(footprint, image)
    for path in write_build(image, footprint, args.output):
        print(f"wrote {path}")
    capacity = f" of {target.flash_bytes} / {target.ram_bytes}" if target.flash_bytes else ""
    print(f"{model.name} for {target.id}: flash {footprint.elf_flash} B, RAM {footprint.elf_ram} B{capacity} "
          f"(weights {footprint.weights_flash}, code {footprint.code_flash}, arena {footprint.activation_ram})")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from harness.io import check_writable_file, write_atomically
    from harness.models import yamnet256

    check_writable_file(args.output)  # before a rebuild's minutes, not after
    arguments = (args.classes, args.seed)
    if args.float_output is not None and not args.rebuild:
        raise HilError("--float-output needs --rebuild: the float model comes out of the same training")
    if args.rebuild:
        (model, float_model), how = yamnet256.build_yamnet256_models(*arguments), "trained now"
        if args.float_output is not None:
            write_atomically(args.float_output, lambda tmp: tmp.write_bytes(float_model))
            print(f"wrote {args.float_output} (the float32 model of the same training)")
    elif arguments == (yamnet256.DEFAULT_CLASSES, yamnet256.DEFAULT_SEED):
        model, how = yamnet256.default_model_path().read_bytes(), "the committed default"
    else:
        model, how = yamnet256.built_model_path(*arguments).read_bytes(), "built on this machine"
    write_atomically(args.output, lambda tmp: tmp.write_bytes(model))
    print(f"wrote {args.output} (yamnet256, {args.classes} classes, seed {args.seed}, {how})")
    return 0


def _board(args: argparse.Namespace, target: str | None = None):
    """The board record from the target and link options (harness.device.board)."""
    from harness.device.board import Board
    from harness.targets import load_target

    return Board(load_target(target or args.target or DEFAULT_TARGET), port=args.port, baud=args.baud,
                 link_timeout=args.link_timeout, inference_timeout=args.inference_timeout, loader=args.loader,
                 probe=args.probe, pack=args.pack, reflash=args.reflash)


@contextlib.contextmanager
def _held_board(args: argparse.Namespace) -> Iterator:
    """The board to run on: as the options say, or, with --hardware-map, a board of the map (the one
    --board names, else a free one of --target) held with its lock until the block ends."""
    if args.hardware_map is None:
        if args.board is not None:
            raise HilError(f"--board {args.board} needs --hardware-map FILE: the map says where that board is")
        yield _board(args)
        return
    from harness.farm.claim import claim_board
    from harness.farm.hardware_map import PLACE_OPTIONS, load_hardware_map, refuse_place_options

    if args.board_wait < 0:
        raise HilError(f"--board-wait must not be negative (got {args.board_wait:g})")
    refuse_place_options({option: getattr(args, name) for name, option in PLACE_OPTIONS.items()})
    hardware_map = load_hardware_map(args.hardware_map)
    target = args.target
    if args.board is not None and target is None:
        target = hardware_map.entry(args.board).target  # the board says which target it is
    options = _board(args, target)
    with claim_board(hardware_map, options, holder=f"hil {args.command}", wait=args.board_wait,
                     board_id=args.board, coordinator=args.coordinator) as claimed:
        print(f"hil {args.command}: on board {claimed.entry.id} (entry {claimed.entry.index} of {hardware_map.path})",
              file=sys.stderr)
        yield claimed.board


LOADER_CHOICES = ("exec", "qemu", "pyocd")  # targets/schema.json, load.method


def cmd_infer(args: argparse.Namespace) -> int:
    from harness.infer import infer

    outputs = infer(_model_path(args.model), args.inputs, args.out, _board(args), _model_name(args))
    print(f"wrote {args.out}: {outputs.shape[0]} outputs of shape {list(outputs.shape[1:])} {outputs.dtype}")
    return 0


def cmd_patches(args: argparse.Namespace) -> int:
    from harness.audio.frontend import audio_patches, frontend
    from harness.inputs import log_mel_inputs
    from harness.io import save_array

    if args.float and args.model is not None:
        raise HilError("--float and --model exclude each other: --float writes the log-mel patches before quantization")
    fe = frontend(args.frontend)
    patches = audio_patches(args.audio, fe)
    if not args.float:
        from harness.compiler.graph import read_model

        graph = read_model(_model_path(args.model))
        patches = log_mel_inputs(patches, graph)
    save_array(args.output, patches)
    print(f"wrote {args.output}: {patches.shape[0]} patches of shape {list(patches.shape[1:])} {patches.dtype} "
          f"(front end {fe.name})")
    return 0


def _accuracy_options(args: argparse.Namespace):
    """The dataset options as the accuracy job takes them; None without --dataset."""
    if args.dataset is None:
        for option in ("classes", "fold", "float_model"):
            if getattr(args, option) is not None:
                raise HilError(f"--{option.replace('_', '-')} needs --dataset PATH")
        return None
    from harness.accuracy.options import AccuracyOptions, dataset_path

    return AccuracyOptions(dataset=dataset_path(args.dataset), classes_file=args.classes, fold=args.fold,
                           float_model=args.float_model, aggregation=args.aggregation, frontend=args.frontend,
                           skip_bad=args.skip_bad, agreement_only=args.agreement_only)


def _bench_run(args: argparse.Namespace, patches: int) -> dict:
    """The bench job as the options say: run, write the run directory, print the tables."""
    from rich.console import Console

    from harness.bench import BenchOptions, bench, summary_tables

    dataset = _accuracy_options(args)
    with _held_board(args) as board:
        options = BenchOptions(
            model_path=_model_path(args.model), board=board, patches=patches, timing_runs=args.timing_runs,
            results_dir=args.results_dir, name=_model_name(args), extra_cflags=tuple(args.cflag), dataset=dataset,
        )
        console = Console(stderr=True)
        folder, record = bench(options, console)
    for table in summary_tables(record, folder):
        Console().print(table)
    return record


def _verdict(record: dict) -> int:
    """1 when the device differs from the golden: on any patch, or on any clip's prediction."""
    parity = record["parity"]
    clips_disagree = bool(record.get("accuracy", {}).get("disagreements"))
    return 1 if parity["exact_patches"] != parity["patches"] or clips_disagree else 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.dataset is not None and args.patches is not None:
        raise HilError("--patches and --dataset exclude each other: with a dataset, its clips are the patches")
    return _verdict(_bench_run(args, args.patches or defaults.PATCHES))


def cmd_accuracy(args: argparse.Namespace) -> int:
    return _verdict(_bench_run(args, defaults.PATCHES))


def _add_device_options(p: argparse.ArgumentParser) -> None:
    """Where to run and how to reach the device: the same options on every command that runs one."""
    p.add_argument("--target", help=f"where to run (default: {DEFAULT_TARGET}; with --board, that board's)")
    p.add_argument("--port", help="serial port (pyserial URL) of a board's link; boards only")
    p.add_argument("--baud", type=int, help="baud rate of a board's link (default: the target's); boards only")
    p.add_argument("--link-timeout", type=float, default=defaults.LINK_TIMEOUT_S, metavar="SECONDS",
                   help="wait per try for the answer to a request that runs nothing on the device "
                        f"(default {defaults.LINK_TIMEOUT_S:g})")
    p.add_argument("--inference-timeout", type=float, metavar="SECONDS",
                   help="how long one inference may take before the device counts as silent (default: twice what "
                        f"the model's MACs need on the target at its slowest, plus {defaults.INFERENCE_SLACK_S:g} s)")
    p.add_argument("--loader", choices=LOADER_CHOICES,
                   help="how to load the image (default: the target's own way); pyocd on qemu-m33 loads the "
                        "emulator through pyOCD, as a board is flashed")
    p.add_argument("--probe", metavar="UNIQUE_ID", help="a board's debug probe (pyOCD unique ID, or part of it)")
    p.add_argument("--pack", type=Path, metavar="FILE",
                   help="the CMSIS-Pack that defines a board's chip for pyOCD (u585: Keil.STM32U5xx_DFP)")
    p.add_argument("--reflash", action="store_true",
                   help="program a board even when it already runs the image")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hil", description="Hardware-in-the-loop benchmarking of int8 models.")
    parser.add_argument("--version", action="version", version=f"hil {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("compile", help="compile an int8 .tflite model to C")
    p.add_argument("model", nargs="?", type=Path, help=".tflite file (default: the project's Yamnet-256)")
    p.add_argument("-o", "--output", type=Path, help="folder for the generated .c and .h")
    p.add_argument("--name", help="C prefix of every symbol (default: from the file name)")
    p.add_argument("--plan", action="store_true", help="print the arena plan")
    p.add_argument("--target", help="also check that the model fits this target's memories")
    p.set_defaults(run=cmd_compile)

    p = commands.add_parser("build", help="build the firmware image of a model for a target, with its footprint")
    p.add_argument("--target", default=DEFAULT_TARGET, help=f"the target (default: {DEFAULT_TARGET})")
    p.add_argument("--model", type=Path, help=".tflite file (default: the project's Yamnet-256)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="folder for firmware.elf, firmware.map and footprint.json")
    p.set_defaults(run=cmd_build)

    p = commands.add_parser("model", help="write the project's default model")
    p.add_argument("architecture", choices=["yamnet256"])
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .tflite")
    p.add_argument("--classes", type=int, default=4,
                   help="classes of the dense head, trained on the first of the demo classes (default 4: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the training (default 0)")
    p.add_argument("--rebuild", action="store_true",
                   help="train it now with TensorFlow, even the committed default (its bytes depend on the CPU)")
    p.add_argument("--float-output", type=Path, metavar="FILE",
                   help="with --rebuild, also write the float32 .tflite of the same training")
    p.set_defaults(run=cmd_model)

    p = commands.add_parser("infer", help="run inputs through the firmware on a target")
    _add_device_options(p)
    p.add_argument("--model", type=Path, help=".tflite file (default: the project's Yamnet-256)")
    p.add_argument("--inputs", type=Path, required=True, help=".npy of N inputs stacked on a new first axis")
    p.add_argument("--out", type=Path, required=True, help=".npy to write the N outputs to")
    p.set_defaults(run=cmd_infer)

    from harness.audio.frontend import DEFAULT_FRONTEND, FRONTENDS

    p = commands.add_parser("patches", help="an audio file's log-mel patches through the front end")
    p.add_argument("audio", type=Path, help="audio file (WAV, FLAC, OGG, MP3; any rate, mono or several channels)")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the .npy")
    p.add_argument("--model", type=Path,
                   help="int8 patches as this .tflite's input, shape (N, *input shape) (default: the project's "
                        "Yamnet-256)")
    p.add_argument("--float", action="store_true", help="the float log-mel patches instead, shape (N, 64, 96)")
    p.add_argument("--frontend", choices=tuple(FRONTENDS), default=DEFAULT_FRONTEND,
                   help="the front end's preset (default: %(default)s, the shared model's training pipeline)")
    p.set_defaults(run=cmd_patches)

    p = commands.add_parser("bench", help="run reference patches on a target: parity, latency, footprint")
    p.add_argument("--patches", type=int,
                   help=f"how many reference patches to run (default {defaults.PATCHES}; not with --dataset)")
    _add_bench_options(p, demo_by_default=False)
    p.set_defaults(run=cmd_bench)

    p = commands.add_parser("accuracy", help="clip-level accuracy of a dataset (default: the demo dataset) on a "
                                             "target: device, golden and float, with the bench figures; exit 1 "
                                             "when device and golden disagree")
    _add_bench_options(p, demo_by_default=True)
    p.set_defaults(run=cmd_accuracy)
    _add_boards_command(commands)
    _add_compare_command(commands)
    _add_report_command(commands)
    _add_baseline_command(commands)
    return parser


def _add_bench_options(p: argparse.ArgumentParser, demo_by_default: bool) -> None:
    """The options of the bench job, shared by `hil bench` and `hil accuracy`."""
    _add_device_options(p)
    p.add_argument("--model", type=Path, help=".tflite file (default: the project's Yamnet-256)")
    p.add_argument("--timing-runs", type=int, default=defaults.TIMING_RUNS,
                   help=f"inferences per timing run (default {defaults.TIMING_RUNS})")
    p.add_argument("--results-dir", type=Path, default=defaults.RESULTS_DIR,
                   help=f"where runs land (default: {defaults.RESULTS_DIR})")
    p.add_argument("--cflag", action="append", default=[], metavar="FLAG",
                   help="an extra compiler flag for this run's firmware (repeatable), e.g. --cflag=-O1")
    _add_farm_options(p)
    _add_dataset_options(p, demo_by_default)


def _add_dataset_options(p: argparse.ArgumentParser, demo_by_default: bool) -> None:
    """Clips instead of reference patches, and how their clip-level accuracy is measured (harness/accuracy)."""
    from harness.accuracy.aggregation import AGGREGATIONS, DEFAULT_AGGREGATION
    from harness.accuracy.options import DEMO_DATASET
    from harness.audio.frontend import DEFAULT_FRONTEND, FRONTENDS

    default = f" (default: {DEMO_DATASET})" if demo_by_default else ""
    p.add_argument("--dataset", default=DEMO_DATASET if demo_by_default else None, metavar="PATH",
                   help="audio clips: an ESC-50 folder (meta/esc50.csv + audio/), a folder of class folders, a "
                        f"CSV of path,label, or `{DEMO_DATASET}` for the project's demo dataset (a folder named "
                        f"{DEMO_DATASET}: ./{DEMO_DATASET}){default}")
    p.add_argument("--classes", type=Path, metavar="FILE",
                   help="the model's class names in output order: one a line, or a model-zoo config YAML "
                        "(dataset.class_names) (default: the demo classes for the default model, else the "
                        "dataset's labels, sorted)")
    p.add_argument("--fold", type=int, metavar="K", help="only the clips of this fold (ESC-50)")
    p.add_argument("--float-model", type=Path, metavar="FILE",
                   help="the float model (Keras .h5 or float .tflite) for the float accuracy column")
    p.add_argument("--aggregation", choices=AGGREGATIONS, default=DEFAULT_AGGREGATION,
                   help="one prediction per clip: mean of the patches' outputs then argmax, or a majority vote "
                        "(ties: highest mean, then lowest class index) (default: %(default)s)")
    p.add_argument("--frontend", choices=tuple(FRONTENDS), default=DEFAULT_FRONTEND,
                   help="the audio front end's preset (default: %(default)s, the shared model's training pipeline)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip unreadable clips (each named in the results) instead of stopping at the first")
    p.add_argument("--agreement-only", action="store_true",
                   help="the dataset's labels are not the model's classes: compare device and golden per clip, "
                        "with no accuracy")


# --- farms: hil boards, and a board of the hardware map (harness/farm) -----------------------------

def _add_farm_options(p: argparse.ArgumentParser) -> None:
    from harness.farm.locks import BOARD_WAIT_S

    p.add_argument("--hardware-map", type=Path, metavar="FILE",
                   help="the lab's boards (YAML): run on a free board of --target from it, held with its lock")
    p.add_argument("--board", metavar="ID", help="with --hardware-map, the board of that id")
    p.add_argument("--board-wait", type=float, default=BOARD_WAIT_S, metavar="SECONDS",
                   help=f"how long to wait for the board to be free (default {BOARD_WAIT_S:g})")
    p.add_argument("--coordinator", default=os.environ.get("LG_COORDINATOR"), metavar="HOST:PORT",
                   help="the labgrid coordinator that reserves the map's boards with a labgrid_place across hosts "
                        "(default: $LG_COORDINATOR)")


def cmd_boards_check(args: argparse.Namespace) -> int:
    from harness.farm.hardware_map import load_hardware_map

    hardware_map = load_hardware_map(args.map)
    print(f"{args.map}: {hardware_map.summary()}")
    return 0


# hil boards scan's exit code when nothing is connected: there is no map to propose.
EXIT_NOTHING_FOUND = 1


def cmd_boards_scan(args: argparse.Namespace) -> int:
    from harness.farm.scan import connected_probes, nothing_found, propose, serial_ports
    from harness.targets import load_target

    if args.target is not None:
        load_target(args.target)  # an unknown target is said before anything is scanned
    probes, ports = connected_probes(), serial_ports()
    if not probes:
        print(f"hil boards scan: {nothing_found(ports)}", file=sys.stderr)
        return EXIT_NOTHING_FOUND
    print(propose(probes, ports, args.target).yaml(), end="")
    return 0


def _add_boards_command(commands) -> None:
    p = commands.add_parser("boards", help="the lab's hardware map: check one, or propose one from what is connected")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate a hardware map; exit 2 naming the first wrong entry and field")
    check.add_argument("map", metavar="FILE", type=Path, help="the hardware map (YAML)")
    check.set_defaults(run=cmd_boards_check)
    scan = actions.add_parser("scan", help="print a hardware map (YAML) for the probes and serial ports connected "
                                           "here; exit 1 when there is none")
    scan.add_argument("--target", help="the target of every board found (default: as pyOCD recognizes the board)")
    scan.set_defaults(run=cmd_boards_scan)


# --- results: hil compare / report / baseline (docs/results.md) ---------------------------------

def _results_console():
    """stdout; wide enough in CI logs (not a terminal) for the tables not to wrap."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)


# hil compare's exit codes besides 0 (judged, no regression) and 2 (bad input).
EXIT_REGRESSION = 1
EXIT_NOT_COMPARABLE = 3  # parity held, but latency and footprint come from another environment


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.results.baselines import choose_baseline, is_baselines_folder
    from harness.results.compare import Thresholds, compare, comparison_table, environment_text, verdict_line
    from harness.results.schema import load_run

    thresholds = Thresholds.load(args.thresholds, args.threshold)
    candidate = load_run(args.candidate)
    console = _results_console()
    baseline_source = args.baseline
    if is_baselines_folder(baseline_source):
        baseline_source, which = choose_baseline(baseline_source, candidate)
        console.print(which, highlight=False, markup=False)
    comparison = compare(load_run(baseline_source), candidate, thresholds)
    if not comparison.comparable:
        console.print(environment_text(comparison), highlight=False, markup=False)
    console.print(comparison_table(comparison))
    console.print(verdict_line(comparison), highlight=False, markup=False)
    if comparison.regressed:
        return EXIT_REGRESSION
    return 0 if comparison.comparable else EXIT_NOT_COMPARABLE


def _add_compare_command(commands) -> None:
    p = commands.add_parser(
        "compare",
        help="compare a run with a baseline; exit 1 on a regression, 3 when the environments differ",
    )
    p.add_argument("baseline", metavar="BASELINE", type=Path,
                   help="run directory or run.json, or a folder of baselines (e.g. results/baselines), "
                        "from which the one for the candidate's target and compiler is taken")
    p.add_argument("candidate", metavar="CANDIDATE", type=Path, help="run directory or run.json")
    p.add_argument("--threshold", action="append", default=[], metavar="NAME=PERCENT",
                   help="allowed growth, repeatable: latency.instructions (default 2), latency.cycles (5), "
                        "footprint.<activation_ram|runtime_ram|weights_flash|code_flash|total_ram|total_flash> (1)")
    p.add_argument("--thresholds", type=Path, metavar="FILE",
                   help="TOML file of thresholds ([latency] instructions = 2 ...); --threshold wins over it")
    p.set_defaults(run=cmd_compare)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.results.trends import SUMMARY_FILE, render_report

    out = args.output or args.results_dir / "report"
    written = render_report(args.results_dir, out)
    charts = [path for path in written if path.suffix == ".png"]
    print(f"wrote {len(charts)} charts and {SUMMARY_FILE} to {out}")
    return 0


def _add_report_command(commands) -> None:
    p = commands.add_parser("report", help="trend charts and a summary from results/history.csv")
    p.add_argument("--results-dir", type=Path, default=defaults.RESULTS_DIR,
                   help="where runs and history.csv are (default: results)")
    p.add_argument("-o", "--output", type=Path,
                   help="folder for the charts and summary.md (default: RESULTS_DIR/report)")
    p.set_defaults(run=cmd_report)


def cmd_baseline_save(args: argparse.Namespace) -> int:
    from harness.results.baselines import save_baseline
    from harness.results.schema import load_run

    run = load_run(args.run_dir)
    path = save_baseline(args.results_dir, args.run_dir)
    env = run["environment"]
    print(f"saved {path}: run {run['run_id']} ({env['model_name']} on {env['target']}, built with "
          f"{env['compiler']}) is now the baseline")
    return 0


def _add_baseline_command(commands) -> None:
    p = commands.add_parser("baseline", help="keep a run as the reference `hil compare` checks against")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    save = actions.add_parser(
        "save", help="copy a run's run.json to RESULTS_DIR/baselines/<target>/<compiler>.json")
    save.add_argument("run_dir", metavar="RUN", type=Path, help="run directory or run.json")
    save.add_argument("--results-dir", type=Path, default=defaults.RESULTS_DIR,
                      help="where baselines/ is (default: results)")
    save.set_defaults(run=cmd_baseline_save)


# Exit codes (docs/exit-codes.md): each means one thing on every command.
EXIT_OK = 0
# 1: the command's own negative answer: a parity failure (bench), a regression (compare), no board
# found (boards scan); EXIT_REGRESSION and EXIT_NOTHING_FOUND above. 3: compare's "not comparable".
EXIT_BAD_INPUT = 2  # the input or the setup is wrong; the one line says what to change
EXIT_DEVICE_FAILED = 4  # the device or its link failed during the run: no verdict was reached
EXIT_INTERNAL_ERROR = 5  # a bug in hil: the traceback is printed, to be reported
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as a shell reports it
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), e.g. from a CI runner or a supervisor


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds as on Ctrl-C: every loader's stop() runs."""


def _raise_terminated(signum, frame):
    raise Terminated


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises Terminated while the command runs (only the main thread may set handlers)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failure_code(exc: HilError) -> int:
    from harness.device.link.protocol import LinkError

    return EXIT_DEVICE_FAILED if isinstance(exc, LinkError) else EXIT_BAD_INPUT


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _sigterm_unwinds():
            return args.run(args)
    except HilError as exc:
        code = _failure_code(exc)
        kind = "device failure" if code == EXIT_DEVICE_FAILED else "error"
        print(f"hil {args.command}: {kind}: {exc}", file=sys.stderr)
        return code
    except Terminated:
        print(f"hil {args.command}: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"hil {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        import traceback

        traceback.print_exc()
        print(f"hil {args.command}: internal error (a bug in hil {__version__}; please report it with the "
              f"traceback above)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
