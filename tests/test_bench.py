"""`hil bench` end to end on the host target: a run directory, the history, the exit code."""

import json
import os

import pytest

from harness.cli import main
from harness.results.history import LOCK_FILE, load_history
from harness.results.schema import load_run

from example_model import example_model


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "example.tflite"
    path.write_bytes(example_model())
    return path


def bench(capsys, model_file, results, *extra):
    code = main(["bench", "--target", "host", "--model", str(model_file), "--patches", "12",
                 "--results-dir", str(results), *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err


def test_bench_writes_a_complete_run_and_a_history_row(capsys, model_file, tmp_path):
    code, out, _ = bench(capsys, model_file, tmp_path / "results")
    assert code == 0
    (run_dir,) = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    assert run_dir.name.endswith("_host_example")
    files = sorted(p.name for p in run_dir.iterdir())
    assert files == ["latency_per_layer.png", "outputs.npz", "report.md", "run.json"]
    record = load_run(run_dir)  # validates against the schema
    assert record["parity"]["exact_patches"] == record["parity"]["patches"] == 12
    assert record["latency"]["unit"] == "ns" and record["latency"]["ms_at_clock"] is None
    assert record["footprint"]["activation_ram"] > 0 and record["footprint"]["runtime_ram"] is None  # host: no stack
    assert (run_dir / "latency_per_layer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (run_dir / "report.md").read_text()
    assert "STM32Cube.AI 7.3.0" in report and "| 12 | 12 | 0 |" in report
    assert json.loads((run_dir / "run.json").read_text())["run_id"] == run_dir.name
    history = load_history(tmp_path / "results")
    assert list(history["run_id"]) == [run_dir.name]
    assert "12/12 patches bit-exact" in out


def test_an_unwritable_results_folder_is_refused_before_anything_runs(capsys, model_file, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        code, _, err = bench(capsys, model_file, locked)
    finally:
        os.chmod(locked, 0o700)
    assert code == 2 and "is not writable" in err and list(locked.iterdir()) == []


def test_a_results_path_that_is_a_file_is_refused(capsys, model_file, tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("")
    code, _, err = bench(capsys, model_file, blocker)
    assert code == 2 and "cannot create the results folder" in err


def test_an_unknown_target_is_named(capsys, model_file, tmp_path):
    code = main(["bench", "--target", "stm32h7", "--model", str(model_file), "--results-dir", str(tmp_path)])
    assert code == 2 and "unknown target 'stm32h7'" in capsys.readouterr().err


def test_a_run_that_fails_while_writing_leaves_no_directory(capsys, model_file, tmp_path, monkeypatch):
    from harness import bench as bench_module
    from harness.errors import HilError

    def failing_report(folder, record):
        (folder / "report.md").write_text("half")
        raise HilError("disk full while writing the report")

    monkeypatch.setattr(bench_module, "write_report_files", failing_report)
    code, _, err = bench(capsys, model_file, tmp_path / "results")
    assert code == 2 and "disk full" in err
    left = [p.name for p in (tmp_path / "results").iterdir()]
    assert left == [LOCK_FILE]  # no run, no staging folder, no history; only the folder's lock
