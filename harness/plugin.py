"""The pytest plugin: `pytest --target=T` builds, loads and talks to the firmware on T.

Options are parsed once into a typed HilConfig kept in config.stash, with the same board
record `hil bench` builds. Fixtures are layered, one state change each, each a step of the
same device session the `hil` commands use: compiled model -> firmware image -> loaded
target -> link -> device.
They are session-scoped, so a target is built and started once per model. A user mistake
(a bad option, a missing tool) fails the fixture with its message, not a traceback.

With a hardware map (--hardware-map, harness/farm), each session (each pytest-xdist worker)
holds a board of the map for its whole length (hil_board), so `pytest -n 4 --hardware-map
lab.yaml` runs on four boards and two runs never share one; a board found broken fails the rest
of its session's tests at once, while the other workers go on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from harness import defaults
from harness.errors import HilError
from harness.farm.locks import BOARD_WAIT_S

if TYPE_CHECKING:
    from harness.device.board import Board
    from harness.farm.hardware_map import HardwareMap

DEFAULT_MODEL_ID = "default"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    path: Path | None  # None: the project's default model
    optional: bool = False  # from hil_optional_models: skipped when the file is absent


@dataclass(frozen=True)
class HilConfig:
    target: str
    # The target and how to reach it: the same record `hil bench` builds. With a hardware map, where
    # the board is (probe, port, baud, pack) comes from the entry each session takes (hil_board).
    board: Board
    models: tuple[ModelSpec, ...]
    patches: int
    timing_runs: int
    results_dir: Path
    hardware_map: HardwareMap | None  # --hardware-map
    board_wait: float  # seconds a session waits for a free board of the map
    coordinator: str | None  # labgrid coordinator (HOST:PORT) for the map's boards with a labgrid_place


@dataclass
class SessionBoard:
    """The board this session runs on, and why it is broken once it is found so."""

    board: Board
    id: str | None = None  # its hardware map entry; None without a map
    # One user, one board, one process (no map, no pytest-xdist): a board that cannot be loaded ends
    # the run. Otherwise it is marked broken and only this session's tests fail.
    stops_run: bool = False
    broken: str | None = None

    @property
    def name(self) -> str:
        return f"board {self.id}" if self.id is not None else f"the {self.board.target.id} board"

    @property
    def may_break(self) -> bool:
        """Whether a failed load marks it broken for the rest of the session: a board flashed through
        a probe (or an emulator on a shelf) that is shared by the run. An emulator or process the
        harness starts is started afresh for each image: its failures are the image's."""
        return self.board.is_flashed and not self.stops_run


HIL_CONFIG = pytest.StashKey[HilConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop benchmarking")
    group.addoption("--target", help="target to run the hil suite on (default: hil_target ini, else qemu-m33)")
    group.addoption("--model", action="append", metavar="PATH",
                    help="int8 .tflite to run, with int8 or float32 input and output "
                         "(repeatable; default: the project's Yamnet-256)")
    group.addoption("--port", help="serial port (pyserial URL) of a board's link; boards only")
    group.addoption("--baud", type=int, help="baud rate of a board's link (default: the target's); boards only")
    group.addoption("--patches", type=int, help=f"reference patches per model (default {defaults.PATCHES})")
    group.addoption("--timing-runs", type=int, help=f"inferences per timing run (default {defaults.TIMING_RUNS})")
    group.addoption("--results-dir", help="where the suite keeps per-patch outputs (default: results/)")
    group.addoption("--link-timeout", type=float, metavar="SECONDS",
                    help="wait per try for the answer to a request that runs nothing on the device "
                         f"(default {defaults.LINK_TIMEOUT_S:g})")
    group.addoption("--loader", choices=("exec", "qemu", "pyocd"),
                    help="how to load the image (default: the target's own way); pyocd on qemu-m33 loads the "
                         "emulator through pyOCD, as a board is flashed")
    group.addoption("--probe", metavar="UNIQUE_ID", help="a board's debug probe (pyOCD unique ID, or part of it)")
    group.addoption("--pack", metavar="FILE",
                    help="the CMSIS-Pack that defines a board's chip for pyOCD (u585: Keil.STM32U5xx_DFP)")
    group.addoption("--reflash", action="store_true", default=None,
                    help="program a board even when it already runs the image")
    group.addoption("--inference-timeout", type=float, metavar="SECONDS",
                    help="how long one inference may take before the device counts as silent (default: twice what "
                         f"the model's MACs need on the target at its slowest, plus {defaults.INFERENCE_SLACK_S:g} s)")
    group.addoption("--hardware-map", metavar="FILE",
                    help="the lab's boards (YAML, harness/farm/hardware-map.schema.json): each session (each "
                         "pytest-xdist worker) holds one board of the target for its whole length")
    group.addoption("--board-wait", type=float, metavar="SECONDS",
                    help="with --hardware-map, how long a session waits for a free board before it fails "
                         f"(default {BOARD_WAIT_S:g})")
    group.addoption("--coordinator", default=os.environ.get("LG_COORDINATOR"), metavar="HOST:PORT",
                    help="the labgrid coordinator that reserves the map's boards with a labgrid_place across hosts "
                         "(default: $LG_COORDINATOR)")
    parser.addini("hil_target", "default target of the hil suite", default="qemu-m33")
    parser.addini("hil_optional_models", "models also run when their file exists (paths relative to the rootdir)",
                  type="args", default=[])


def _positive(name: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    if value <= 0:
        raise pytest.UsageError(f"--{name} must be positive (got {value})")
    return value


def _models(config: pytest.Config) -> tuple[ModelSpec, ...]:
    given = config.getoption("model")
    if given:
        paths = [Path(p).expanduser().resolve() for p in given]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise pytest.UsageError(f"--model: no such file: {', '.join(missing)}")
        return tuple(ModelSpec(p.stem, p) for p in paths)
    optional = tuple(
        ModelSpec(Path(p).stem, (config.rootpath / p).resolve(), optional=True)
        for p in config.getini("hil_optional_models")
    )
    return (ModelSpec(DEFAULT_MODEL_ID, None), *optional)


def _board(config: pytest.Config, target_id: str) -> Board:
    from harness.device.board import Board
    from harness.targets import available_targets, load_target

    if target_id not in available_targets():
        known = ", ".join(available_targets())
        raise pytest.UsageError(f"--target {target_id}: unknown target; known targets: {known}")
    link_timeout = config.getoption("link_timeout")
    try:
        pack = config.getoption("pack")
        return Board(load_target(target_id), port=config.getoption("port"), baud=config.getoption("baud"),
                     link_timeout=defaults.LINK_TIMEOUT_S if link_timeout is None else link_timeout,
                     inference_timeout=config.getoption("inference_timeout"), loader=config.getoption("loader"),
                     probe=config.getoption("probe"), pack=None if pack is None else Path(pack).expanduser(),
                     reflash=bool(config.getoption("reflash")))
    except HilError as exc:
        raise pytest.UsageError(str(exc)) from None


def _hardware_map(config: pytest.Config, target_id: str, board: Board) -> HardwareMap | None:
    """The map, checked, when one is given: with boards of the target, at least as many as there
    are pytest-xdist workers, and no option that would name one board for all. Without one,
    workers can share no board: each starts its own emulator, or there must be only one."""
    given = config.getoption("hardware_map")
    workers = _xdist_workers(config)
    if given is None:
        if workers > 1 and board.is_flashed:
            raise pytest.UsageError(f"-n {workers} without --hardware-map: the {workers} workers would share the one "
                                    f"{target_id} board the options name; give a hardware map of the lab's boards")
        return None
    from harness.farm.claim import candidates
    from harness.farm.hardware_map import PLACE_OPTIONS, load_hardware_map, refuse_place_options

    try:
        refuse_place_options({option: config.getoption(name) for name, option in PLACE_OPTIONS.items()})
        hardware_map = load_hardware_map(Path(given).expanduser())
        boards = candidates(hardware_map, target_id)
    except HilError as exc:
        raise pytest.UsageError(str(exc)) from None
    if workers > len(boards):
        raise pytest.UsageError(f"-n {workers} asks for {workers} workers, but {given} has {len(boards)} "
                                f"{target_id} board{'s' if len(boards) != 1 else ''}: use -n {len(boards)} or fewer")
    return hardware_map


def _xdist_workers(config: pytest.Config) -> int:
    """How many pytest-xdist workers this (controlling) process starts; 0 without xdist, and in a worker."""
    if _worker_id(config) is not None or getattr(config.option, "dist", "no") == "no":
        return 0
    return len(getattr(config.option, "tx", None) or ())


def _board_wait(config: pytest.Config) -> float:
    wait = config.getoption("board_wait")
    if wait is None:
        return BOARD_WAIT_S
    if wait < 0:
        raise pytest.UsageError(f"--board-wait must not be negative (got {wait:g})")
    return wait


@pytest.hookimpl(tryfirst=True)  # a usage error stops the run before other plugins set anything up
def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("target") or config.getini("hil_target")
    board = _board(config, target)
    config.stash[HIL_CONFIG] = HilConfig(
        target=target,
        board=board,
        models=_models(config),
        patches=_positive("patches", config.getoption("patches"), defaults.PATCHES),
        timing_runs=_positive("timing-runs", config.getoption("timing_runs"), defaults.TIMING_RUNS),
        results_dir=Path(config.getoption("results_dir") or config.rootpath / defaults.RESULTS_DIR),
        hardware_map=_hardware_map(config, target, board),
        board_wait=_board_wait(config),
        coordinator=config.getoption("coordinator"),
    )
    config.addinivalue_line("markers", "hil: needs a running target (the fixtures of the hil plugin)")


def pytest_report_header(config: pytest.Config) -> str:
    hil = config.stash[HIL_CONFIG]
    header = f"hil: target {hil.target}, models {', '.join(m.id for m in hil.models)}, {hil.patches} patches"
    if hil.hardware_map is not None:
        ids = ", ".join(e.id for e in hil.hardware_map.of_target(hil.target))
        header += f", boards from {hil.hardware_map.path}: {ids}"
    return header


def _worker_id(config: pytest.Config) -> str | None:
    """This process' pytest-xdist worker id (gw0, gw1...); None when it is not a worker."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else workerinput["workerid"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hil_model_spec" in metafunc.fixturenames:
        models = metafunc.config.stash[HIL_CONFIG].models
        metafunc.parametrize("hil_model_spec", models, ids=[m.id for m in models], indirect=True, scope="session")


@contextlib.contextmanager
def _as_failure() -> Iterator[None]:
    """A HilError is the user's to fix: report its message, not the harness's traceback."""
    try:
        yield
    except HilError as exc:
        raise _failure(str(exc)) from None  # the message alone, without the HilError chained to it


def _failure(message: str) -> BaseException:
    return pytest.fail.Exception(message, pytrace=False)


@pytest.fixture(scope="session")
def hil_config(request: pytest.FixtureRequest) -> HilConfig:
    return request.config.stash[HIL_CONFIG]


@pytest.fixture(scope="session")
def hil_target(hil_config: HilConfig):
    return hil_config.board.target


@pytest.fixture(scope="session")
def hil_model_spec(request: pytest.FixtureRequest) -> ModelSpec:
    spec: ModelSpec = request.param
    if spec.optional and not spec.path.is_file():
        pytest.skip(f"optional model {spec.path} is not present")
    return spec


@pytest.fixture(scope="session")
def hil_model_path(hil_model_spec: ModelSpec) -> Path:
    if hil_model_spec.path is not None:
        return hil_model_spec.path
    from harness.models.yamnet256 import default_model_path

    with _as_failure():
        return default_model_path()


@pytest.fixture(scope="session")
def hil_compiled(hil_model_spec: ModelSpec, hil_model_path: Path, hil_target):
    from harness.compiler import compile_file
    from harness.compiler.compile import check_fits
    from harness.models.yamnet256 import MODEL_NAME

    name = MODEL_NAME if hil_model_spec.path is None else None
    with _as_failure():
        model = compile_file(hil_model_path, name)
        check_fits(model, hil_target)
        return model


@pytest.fixture(scope="session")
def hil_board(request: pytest.FixtureRequest, hil_config: HilConfig) -> Iterator[SessionBoard]:
    """The board of this session. With a hardware map: a board of the target taken from the map
    and held (an OS lock per board) until the session ends, waiting up to --board-wait for one to
    be free; without: the board the options name."""
    worker = _worker_id(request.config)
    if hil_config.hardware_map is None:
        yield SessionBoard(hil_config.board, stops_run=worker is None)
        return
    from harness.farm.claim import claim_board

    holder = f"pytest worker {worker}" if worker else "pytest"
    with _as_failure():
        claimed = claim_board(hil_config.hardware_map, hil_config.board, holder=holder, wait=hil_config.board_wait,
                              coordinator=hil_config.coordinator)
    with claimed:
        yield SessionBoard(claimed.board, claimed.entry.id)


@contextlib.contextmanager
def _breaking(held: SessionBoard) -> Iterator[None]:
    """A board that cannot be brought up (no probe, no port, no handshake after flashing) is marked
    broken: this session's tests fail at once with the reason, the other sessions go on."""
    if held.broken is not None:
        raise _failure(f"{held.name} is broken: {held.broken}")
    try:
        yield
    except HilError as exc:
        held.broken = str(exc)
        raise _failure(f"{held.name} is broken: {exc}") from None


@pytest.fixture(scope="session")
def hil_session(hil_compiled, hil_board: SessionBoard):
    """The device session of this model: each fixture below takes one of its steps. A board that
    cannot be loaded (no probe, no port, no pack) ends the run here, at once, with exit code 2:
    every test after it would fail the same way. A board of a hardware map, or of a pytest-xdist
    worker (which cannot end the run with its message), is marked broken instead, and only its
    own session's tests fail."""
    from harness.device.loaders import LoadError, check_loadable
    from harness.device.session import Session

    if hil_board.stops_run:
        try:
            check_loadable(hil_board.board)
        except LoadError as exc:
            pytest.exit(f"hil: {exc}", returncode=2)
    else:
        with _breaking(hil_board):
            check_loadable(hil_board.board)
    return Session(hil_compiled, hil_board.board)


@pytest.fixture(scope="session")
def hil_firmware(hil_session):
    with _as_failure():
        return hil_session.build()


@pytest.fixture(scope="session")
def hil_running(hil_session, hil_firmware, hil_board: SessionBoard) -> Iterator[str]:
    """The target running the image (the URL of its link), stopped at the end of the session."""
    try:
        with _breaking(hil_board) if hil_board.may_break else _as_failure():
            url = hil_session.load()
        yield url
    finally:
        hil_session.unload()


@pytest.fixture(scope="session")
def hil_link(hil_session, hil_running: str):
    try:
        with _as_failure():
            client = hil_session.connect()
        yield client
    finally:
        hil_session.disconnect()


@pytest.fixture(scope="session")
def hil_device(hil_session, hil_link):
    with _as_failure():
        return hil_session.handshake(hil_link)


@pytest.fixture(scope="session")
def hil_patches(hil_compiled, hil_config: HilConfig) -> np.ndarray:
    """Reference input patches in the model's input type: edge cases, random inputs and synthetic
    log-mel patches (harness.inputs.reference_patches)."""
    from harness.inputs import reference_patches

    with _as_failure():
        return reference_patches(hil_compiled.graph, hil_config.patches)


@pytest.fixture(scope="session")
def hil_results_folder(request: pytest.FixtureRequest, hil_config: HilConfig) -> Path:
    """results/pytest_<UTC time>_<target>[_<xdist worker>]/: what the suite keeps of this session
    (per-patch outputs)."""
    from harness.results.record import pytest_folder_name, utc_now, writable_results_dir

    with _as_failure():
        root = writable_results_dir(hil_config.results_dir)
    folder = root / pytest_folder_name(utc_now(), hil_config.target, _worker_id(request.config))
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def hil_golden(hil_model_path: Path, hil_patches: np.ndarray) -> np.ndarray:
    from harness.parity.golden import golden_outputs

    with _as_failure():
        return golden_outputs(hil_model_path, hil_patches)
