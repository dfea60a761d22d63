"""Fixtures shared by the unit tests: the models the engine is judged on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harness.paths import PROJECT_ROOT

# Property tests compile and run C for each example: wall-clock deadlines would only measure the
# machine's load. CI explores the same examples on every run, so a red CI is never a coin toss;
# developers' runs explore new ones.
settings.register_profile("hil", deadline=None, derandomize=bool(os.environ.get("CI")), print_blob=True)
settings.load_profile("hil")

SHARED_MODEL = PROJECT_ROOT.parent / "shared" / "models" / "st-yamnet256-esc10" / "yamnet_256_64x96_int8.tflite"


@pytest.fixture(scope="session")
def shared_model_path() -> Path:
    if not SHARED_MODEL.is_file():
        pytest.skip("the shared ESC-10 Yamnet-256 model is not present (../shared is absent)")
    return SHARED_MODEL


@pytest.fixture(scope="session")
def example_model_path(tmp_path_factory) -> Path:
    """The tiny Yamnet-shaped model of tests/example_model.py, as a file."""
    from example_model import example_model

    path = tmp_path_factory.mktemp("example") / "example.tflite"
    path.write_bytes(example_model())
    return path


@pytest.fixture(scope="session")
def example_compiled(example_model_path):
    from harness.compiler import compile_file

    return compile_file(example_model_path)


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The project's own Yamnet-256, as the repository keeps it."""
    from harness.models.yamnet256 import default_model_path as packaged

    return packaged()


def pytest_terminal_summary(terminalreporter):
    """The fault campaign's table (tests/fault_ledger.py), when faults were injected."""
    from fault_ledger import LEDGER, table

    if LEDGER:
        terminalreporter.write_sep("=", "fault campaign")
        terminalreporter.write_line(table())
