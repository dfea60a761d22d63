"""results/history.csv: one row per run, written atomically, never overwritten when unreadable."""

import re
import threading

import pandas as pd
import pytest

from harness.errors import HilError
from harness.paths import PROJECT_ROOT
from harness.results.history import COLUMNS, append_history, history_path, load_history

from results_factory import footprint, make_run

HEADER = ",".join(COLUMNS)


def day(n: int, **overrides) -> dict:
    return make_run(environment={"date": f"2026-11-{n:02d}T06:15:02Z", **overrides.pop("environment", {})},
                    **overrides)


def test_the_columns_are_those_of_the_docs():
    text = (PROJECT_ROOT / "docs" / "results.md").read_text()
    section = text.split("## history.csv", 1)[1].split("\n## ", 1)[0]
    listed = re.search(r"columns: `([^`]+)`", section.replace("\n", " ")).group(1)
    assert tuple(name.strip() for name in listed.split(",")) == COLUMNS


def test_the_first_run_creates_the_file_with_its_header(tmp_path):
    path = append_history(tmp_path, make_run())
    assert path == tmp_path / "history.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == (
        f"20261125T061502Z_qemu-m33_yamnet256,2026-11-25T06:15:02Z,qemu-m33,yamnet256,{make_run()['environment']['model_sha256']},"
        "abc123def456,64,64,0,1.0,0,instructions,200000000,199000000,201000000,150000,2000,150000,50000,152000,200000"
    )
    assert len(lines) == 2


def test_rows_accumulate_and_load_typed(tmp_path):
    append_history(tmp_path, day(25))
    append_history(tmp_path, day(26, environment={"git_sha": None}, footprint=footprint(runtime_ram=None),
                                 parity={"exact_patches": 60, "top1_agreement": 0.984375, "max_abs_diff_lsb": None}))
    history = load_history(tmp_path)
    assert list(history.columns) == list(COLUMNS)
    assert len(history) == 2
    assert history["run_id"].tolist() == ["20261125T061502Z_qemu-m33_yamnet256", "20261126T061502Z_qemu-m33_yamnet256"]
    assert str(history["total_flash"].dtype) == "Int64" and str(history["latency_median"].dtype) == "Float64"
    assert history["date"].iloc[1] == pd.Timestamp("2026-11-26T06:15:02Z")
    second = history.iloc[1]
    assert second["exact_patches"] == 60 and second["top1_agreement"] == 0.984375
    assert pd.isna(second["runtime_ram"]) and pd.isna(second["total_ram"]) and pd.isna(second["git_sha"])
    assert pd.isna(second["max_abs_diff_lsb"])
    assert second["total_flash"] == 200_000 and second["latency_median"] == 200_000_000
    # unknown is an empty cell, never "nan" or "None"
    assert ",64,60,,0.984375,0," in history_path(tmp_path).read_text().splitlines()[2]


def test_no_history_loads_as_an_empty_table(tmp_path):
    history = load_history(tmp_path)
    assert history.empty and list(history.columns) == list(COLUMNS)


def test_a_run_already_in_the_history_is_refused(tmp_path):
    append_history(tmp_path, make_run())
    before = history_path(tmp_path).read_bytes()
    with pytest.raises(HilError, match="already in the history"):
        append_history(tmp_path, make_run())
    assert history_path(tmp_path).read_bytes() == before


def test_an_invalid_run_is_not_appended(tmp_path):
    run = make_run()
    del run["footprint"]["total_ram"]
    with pytest.raises(HilError, match="missing key 'footprint.total_ram'"):
        append_history(tmp_path, run)
    assert not history_path(tmp_path).exists()


@pytest.mark.parametrize("content, what", [
    (b"", "empty"),
    (b"run_id,date,target\n1,2,3\n", "header"),
    (HEADER.replace("total_flash", "flash").encode() + b"\n", "header"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
    (HEADER.encode() + b"\n20261125T061502Z_qemu-m33_yamnet256,2026-11-25T06:15:02Z,qemu-m33\n", "row 1 has 3 fields"),
])
def test_a_corrupt_history_is_never_overwritten(tmp_path, content, what):
    path = history_path(tmp_path)
    path.write_bytes(content)
    with pytest.raises(HilError) as info:
        append_history(tmp_path, make_run())
    message = str(info.value)
    assert str(path) in message and what in message and "move it aside" in message
    assert path.read_bytes() == content
    with pytest.raises(HilError, match="move it aside"):
        load_history(tmp_path)


@pytest.mark.parametrize("column, value", [("total_flash", "lots"), ("patches", "64.5"), ("date", "yesterday"),
                                           ("latency_median", "inf")])
def test_an_unparsable_value_names_the_row_and_column(tmp_path, column, value):
    append_history(tmp_path, day(25))
    append_history(tmp_path, day(26))
    path = history_path(tmp_path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[1, column] = value
    table.to_csv(path, index=False)
    content = path.read_bytes()
    with pytest.raises(HilError, match=f"row 2, column {column}: '{value}' is not a") as info:
        append_history(tmp_path, day(27))
    assert "move it aside" in str(info.value)
    assert path.read_bytes() == content


def test_a_failed_write_leaves_the_history_as_it_was(tmp_path, monkeypatch):
    append_history(tmp_path, day(25))
    before = history_path(tmp_path).read_bytes()

    def half_then_fail(self, target, **kwargs):
        with open(target, "w") as f:
            f.write("run_id,da")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    with pytest.raises(HilError, match=r"history.csv: cannot write it \(disk full\); nothing was written"):
        append_history(tmp_path, day(26))  # one line for the user, not a traceback
    assert history_path(tmp_path).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".history.lock", "history.csv"]


def test_concurrent_appends_all_land(tmp_path):
    runs = [day(n) for n in range(1, 17)]
    errors = []

    def append(run):
        try:
            append_history(tmp_path, run)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(load_history(tmp_path)["run_id"]) == sorted(run["run_id"] for run in runs)


def test_a_missing_results_folder_is_an_error(tmp_path):
    with pytest.raises(HilError, match="does not exist"):
        append_history(tmp_path / "absent", make_run())
