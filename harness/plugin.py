"""The pytest plugin: `pytest --target=T` builds, loads and talks to the firmware on T.

Options are parsed once into a typed HilConfig kept in config.stash. Fixtures are layered,
one state change each: compiled model -> firmware image -> loaded target -> link -> device.
They are session-scoped, so a target is built and started once per model. A user mistake
(a bad option, a missing tool) fails the fixture with its message, not a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from harness.errors import HilError

DEFAULT_PATCHES = 64
DEFAULT_TIMING_RUNS = 5
DEFAULT_MODEL_ID = "default"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    path: Path | None  # None: the project's default model
    optional: bool = False  # from hil_optional_models: skipped when the file is absent


@dataclass(frozen=True)
class HilConfig:
    target: str
    models: tuple[ModelSpec, ...]
    port: str | None
    baud: int | None
    patches: int
    timing_runs: int
    results_dir: Path
    link_timeout: float


@dataclass(frozen=True)
class RunningTarget:
    url: str  # pyserial URL of its link
    output: Callable[[], str]  # what it printed outside the link, for error reports


HIL_CONFIG = pytest.StashKey[HilConfig]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop benchmarking")
    group.addoption("--target", help="target to run the hil suite on (default: hil_target ini, else qemu-m33)")
    group.addoption("--model", action="append", metavar="PATH",
                    help="int8 .tflite to run (repeatable; default: the project's Yamnet-256)")
    group.addoption("--port", help="serial port of the board's link (boards only)")
    group.addoption("--baud", type=int, help="baud rate of a board's link (default: the target's)")
    group.addoption("--patches", type=int, help=f"reference patches per model (default {DEFAULT_PATCHES})")
    group.addoption("--timing-runs", type=int, help=f"inferences per timing run (default {DEFAULT_TIMING_RUNS})")
    group.addoption("--results-dir", help="where the suite keeps per-patch outputs (default: results/)")
    group.addoption("--link-timeout", type=float, help="seconds to wait for a device answer (default 30)")
    parser.addini("hil_target", "default target of the hil suite", default="qemu-m33")
    parser.addini("hil_optional_models", "models also run when their file exists (paths relative to the rootdir)",
                  type="args", default=[])


def _positive(config: pytest.Config, name: str, value: int | float | None, default):
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


def pytest_configure(config: pytest.Config) -> None:
    from harness.targets import available_targets

    target = config.getoption("target") or config.getini("hil_target")
    if target not in available_targets():
        raise pytest.UsageError(f"--target {target}: unknown target; known targets: {', '.join(available_targets())}")
    config.stash[HIL_CONFIG] = HilConfig(
        target=target,
        models=_models(config),
        port=config.getoption("port"),
        baud=_positive(config, "baud", config.getoption("baud"), None),
        patches=_positive(config, "patches", config.getoption("patches"), DEFAULT_PATCHES),
        timing_runs=_positive(config, "timing-runs", config.getoption("timing_runs"), DEFAULT_TIMING_RUNS),
        results_dir=Path(config.getoption("results_dir") or config.rootpath / "results"),
        link_timeout=_positive(config, "link-timeout", config.getoption("link_timeout"), 30.0),
    )
    config.addinivalue_line("markers", "hil: needs a running target (the fixtures of the hil plugin)")


def pytest_report_header(config: pytest.Config) -> str:
    hil = config.stash[HIL_CONFIG]
    return f"hil: target {hil.target}, models {', '.join(m.id for m in hil.models)}, {hil.patches} patches"


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
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def hil_config(request: pytest.FixtureRequest) -> HilConfig:
    return request.config.stash[HIL_CONFIG]


@pytest.fixture(scope="session")
def hil_target(hil_config: HilConfig):
    from harness.targets import load_target

    with _as_failure():
        return load_target(hil_config.target)


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
def hil_firmware(hil_compiled, hil_target):
    from harness.build.firmware import build_firmware

    with _as_failure():
        return build_firmware(hil_compiled, hil_target)


@pytest.fixture(scope="session")
def hil_running(hil_firmware, hil_config: HilConfig) -> Iterator[RunningTarget]:
    """The target running the image, stopped at the end of the session."""
    from harness.device.loaders import make_loader

    with _as_failure():
        loader = make_loader(hil_firmware.target, hil_config.port)
        url = loader.start(hil_firmware.path)
    yield RunningTarget(url, loader.output)
    loader.stop()


@pytest.fixture(scope="session")
def hil_link(hil_running: RunningTarget, hil_firmware, hil_config: HilConfig):
    from harness.device.link.protocol import LinkClient
    from harness.device.session import DEFAULT_BAUD, open_port

    baud = hil_config.baud or hil_firmware.target.baud or DEFAULT_BAUD
    with _as_failure():
        port = open_port(hil_running.url, baud, hil_config.link_timeout)
    yield LinkClient(port)
    port.close()


@pytest.fixture(scope="session")
def hil_device(hil_link, hil_firmware, hil_running: RunningTarget):
    from harness.device.session import Device

    with _as_failure():
        return Device(hil_link, hil_firmware, hil_running.url)


@pytest.fixture(scope="session")
def hil_patches(hil_compiled, hil_config: HilConfig) -> np.ndarray:
    """Reference input patches: edge cases, random int8 and quantized synthetic log-mel patches."""
    from harness.audio.patches import structured_int8_inputs

    tensor = hil_compiled.graph.tensor(hil_compiled.graph.inputs[0])
    if tensor.dtype != "int8" or tensor.quant is None:
        pytest.fail(f"the hil suite streams int8 patches; this model's input is {tensor.dtype}", pytrace=False)
    scale, zero_point = float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    return structured_int8_inputs(tensor.shape, hil_config.patches, seed=0, scale=scale, zero_point=zero_point)


@pytest.fixture(scope="session")
def hil_results_folder(hil_config: HilConfig) -> Path:
    """results/pytest_<UTC time>_<target>/: what the suite keeps of this session (per-patch outputs)."""
    from harness.results.record import utc_now, writable_results_dir

    with _as_failure():
        root = writable_results_dir(hil_config.results_dir)
    folder = root / f"pytest_{utc_now():%Y%m%dT%H%M%SZ}_{hil_config.target}"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def hil_golden(hil_model_path: Path, hil_patches: np.ndarray) -> np.ndarray:
    from harness.parity.golden import golden_outputs

    with _as_failure():
        return golden_outputs(hil_model_path, hil_patches)
