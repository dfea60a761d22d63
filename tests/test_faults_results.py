"""Results and users' inputs under faults: unique run ids, destinations checked before the work,
one line (exit 2) for each bad input, a corrupt history found before a run, one meaning per exit code.

Runs here use the host target: the emulator's faults are in tests/test_faults_campaign.py."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import numpy as np
import pytest
from disks import make_read_only, small_disk

from harness import cli
from harness.cli import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, main
from harness.results.history import COLUMNS, HISTORY_FILE, load_history
from harness.results.schema import load_run

from example_model import example_model


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "example.tflite"
    path.write_bytes(example_model())
    return path


def host_bench(model_file, results, patches=3):
    return main(["bench", "--target", "host", "--model", str(model_file), "--patches", str(patches),
                 "--timing-runs", "2", "--results-dir", str(results)])


def no_device_opened(monkeypatch):
    """Fail the test if the command gets as far as running anything on a device."""
    from harness import bench, infer

    for module in (bench, infer):
        monkeypatch.setattr(module, "open_device", lambda *a: pytest.fail("the work started before the check"))


# --- run ids ------------------------------------------------------------------------------------------

def test_two_runs_started_in_the_same_second_both_land(monkeypatch, capsys, model_file, tmp_path):
    from harness import bench

    second = datetime(2026, 11, 30, 5, 0, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(bench, "utc_now", lambda: second)
    results = tmp_path / "results"
    assert host_bench(model_file, results) == 0
    assert host_bench(model_file, results) == 0
    capsys.readouterr()
    ids = list(load_history(results)["run_id"])
    assert ids == ["20261130T050000Z_host_example", "20261130T050000Z-2_host_example"]
    for run_id in ids:
        assert load_run(results / run_id)["run_id"] == run_id  # the folder, its run.json and its row agree


def test_a_staging_folder_left_by_a_killed_run_is_removed(capsys, model_file, tmp_path):
    results = tmp_path / "results"
    stale = results / ".staging-20261130T050000Z_host_example.abc123"
    stale.mkdir(parents=True)
    (stale / "run.json").write_text("{")
    assert host_bench(model_file, results) == 0
    capsys.readouterr()
    assert not stale.exists()


# --- exit codes ---------------------------------------------------------------------------------------

def test_an_unexpected_exception_is_an_internal_error_not_a_parity_failure(monkeypatch, capsys, model_file):
    import harness.compiler

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(harness.compiler, "compile_graph", broken)
    code = main(["compile", str(model_file)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL_ERROR and "Traceback" in err and "RuntimeError: a bug" in err
    assert err.strip().splitlines()[-1].startswith("hil compile: internal error")


def test_the_exit_codes_are_distinct():
    codes = [cli.EXIT_OK, cli.EXIT_REGRESSION, cli.EXIT_BAD_INPUT, cli.EXIT_NOT_COMPARABLE, cli.EXIT_DEVICE_FAILED,
             cli.EXIT_INTERNAL_ERROR, cli.EXIT_INTERRUPTED, cli.EXIT_TERMINATED]
    assert len(set(codes)) == len(codes)


# --- destinations checked before the work --------------------------------------------------------------

def test_infer_out_a_folder_is_refused_before_anything_runs(monkeypatch, capsys, model_file, tmp_path):
    no_device_opened(monkeypatch)
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 6, 1), np.int8))
    (tmp_path / "out").mkdir()
    code = main(["infer", "--target", "host", "--model", str(model_file), "--inputs", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and f"{tmp_path / 'out'}: is a folder" in err and "Traceback" not in err


def test_a_corrupt_history_is_found_before_the_run(monkeypatch, capsys, model_file, tmp_path):
    no_device_opened(monkeypatch)
    results = tmp_path / "results"
    results.mkdir()
    (results / HISTORY_FILE).write_text("not,a,history\n")
    code = host_bench(model_file, results)
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "not a history file hil can read" in err
    assert sorted(p.name for p in results.iterdir()) == [HISTORY_FILE]


def test_history_rows_with_crlf_are_refused(tmp_path):
    from harness.errors import HilError

    (tmp_path / HISTORY_FILE).write_bytes((",".join(COLUMNS) + "\r\n").encode())
    with pytest.raises(HilError, match="line 1 ends with CRLF"):
        load_history(tmp_path)


def test_duplicated_history_rows_are_refused(capsys, model_file, tmp_path):
    from harness.errors import HilError

    assert host_bench(model_file, tmp_path) == 0
    capsys.readouterr()
    path = tmp_path / HISTORY_FILE
    header, row = path.read_text().splitlines()
    path.write_text(f"{header}\n{row}\n{row}\n")
    with pytest.raises(HilError, match=r"rows 1 and 2 are the same run \d{8}T\d{6}Z_host_example"):
        load_history(tmp_path)


# --- one line for each bad input ------------------------------------------------------------------------

def one_line(capsys) -> str:
    """The one line that says what was wrong (bench's progress lines above it aside)."""
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("hil ")]
    assert "Traceback" not in err and len(said) == 1 and said[0] == err.strip().splitlines()[-1], err
    return said[0]


def test_npz_inputs_are_one_line(monkeypatch, capsys, model_file, tmp_path):
    np.savez(tmp_path / "x.npz", inputs=np.zeros((2, 1, 8, 6, 1), np.int8))
    code = main(["infer", "--target", "host", "--model", str(model_file), "--inputs", str(tmp_path / "x.npz"),
                 "--out", str(tmp_path / "y.npy")])
    assert code == EXIT_BAD_INPUT and "is a .npz archive" in one_line(capsys)


def test_compile_into_an_existing_file_is_one_line(capsys, model_file, tmp_path):
    (tmp_path / "out").write_text("")
    code = main(["compile", str(model_file), "-o", str(tmp_path / "out")])
    assert code == EXIT_BAD_INPUT and "is a file, expected a folder" in one_line(capsys)


def test_model_into_a_folder_is_one_line(capsys, tmp_path):
    code = main(["model", "yamnet256", "-o", str(tmp_path)])
    assert code == EXIT_BAD_INPUT and "is a folder" in one_line(capsys)


def test_a_cache_that_is_a_file_is_one_line(monkeypatch, capsys, model_file, tmp_path):
    (tmp_path / "cache").write_text("")
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))
    code = host_bench(model_file, tmp_path / "results")
    assert code == EXIT_BAD_INPUT and "cannot use HIL_CACHE_DIR" in one_line(capsys)


def test_an_unwritable_cache_is_one_line(monkeypatch, capsys, model_file, tmp_path):
    with small_disk(tmp_path / "disk", "1m") as disk:
        make_read_only(disk)  # unwritable for every user, root included
        monkeypatch.setenv("HIL_CACHE_DIR", str(disk / "cache"))
        code = host_bench(model_file, tmp_path / "results")
    assert code == EXIT_BAD_INPUT and "HIL_CACHE_DIR" in one_line(capsys)


def test_a_text_file_is_not_called_pickled_data(capsys, model_file, tmp_path):
    (tmp_path / "x.npy").write_text("1,2,3\n")
    code = main(["infer", "--target", "host", "--model", str(model_file), "--inputs", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "y.npy")])
    err = one_line(capsys)
    assert code == EXIT_BAD_INPUT and "not a .npy file" in err and "pickle" not in err
    assert not os.path.exists(tmp_path / "y.npy")
