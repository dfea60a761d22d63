"""`hil compare` and baselines: the rules of docs/results.md, exit codes 0 / 1 / 2, real files."""

import json

import pytest

from harness.cli import main
from harness.errors import HilError
from harness.results.baselines import baseline_path, save_baseline
from harness.results.compare import DEFAULT_THRESHOLDS, Thresholds, compare

from results_factory import OTHER_MODEL_SHA256, footprint, make_run, write_run

LATER = {"date": "2026-11-26T06:15:02Z"}


def candidate(**overrides) -> dict:
    """A run one day after the factory's baseline, with overrides."""
    return make_run(environment={**LATER, **overrides.pop("environment", {})}, **overrides)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def cli_compare(capsys, tmp_path, baseline: dict, cand: dict, *options):
    base_dir = write_run(tmp_path / "baseline", baseline)
    cand_dir = write_run(tmp_path / "candidate", cand)
    return run_cli(capsys, "compare", base_dir, cand_dir, *options)


def table_row(out: str, metric: str) -> str:
    rows = [line for line in out.splitlines() if f" {metric} " in line]
    assert len(rows) == 1, f"{metric} not in the table:\n{out}"
    return rows[0]


# --- exit codes and the table, through the command --------------------------------------------

def test_an_unchanged_candidate_passes(capsys, tmp_path):
    code, out, err = cli_compare(capsys, tmp_path, make_run(), candidate())
    assert code == 0, out + err
    assert "no regression" in out and "regression " not in out.replace("no regression", "")


def test_a_faster_candidate_passes_and_is_better(capsys, tmp_path):
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), candidate(latency={"median": 194_000_000}))
    assert code == 0
    row = table_row(out, "latency.median")
    assert "better" in row and "-6000000" in row and "-3.00 %" in row


def test_a_slower_candidate_fails_and_the_table_names_the_metric(capsys, tmp_path):
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), candidate(latency={"median": 206_000_000}))
    assert code == 1
    row = table_row(out, "latency.median")
    assert "regression" in row and "+3.00 %" in row and "200000000" in row and "206000000" in row
    assert "1 regression: latency.median" in out


def test_a_bigger_candidate_fails(capsys, tmp_path):
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), candidate(footprint=footprint(code_flash=54_000)))
    assert code == 1
    row = table_row(out, "footprint.total_flash")
    assert "regression" in row and "+2.00 %" in row
    assert "regression" in table_row(out, "footprint.code_flash")
    assert "ok" in table_row(out, "footprint.total_ram")


def test_a_less_exact_candidate_fails(capsys, tmp_path):
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), candidate(parity={"exact_patches": 63}))
    assert code == 1
    assert "regression" in table_row(out, "parity.exact_patches")


DEBIAN_13_COMPILER = "arm-none-eabi-gcc (15:14.2.rel1-1) 14.2.1 20241119"


def test_another_compiler_is_named_and_its_figures_are_not_judged(capsys, tmp_path):
    """A slower, bigger run built by another compiler is not a regression of the code: exit 3."""
    other = candidate(environment={"compiler": DEBIAN_13_COMPILER}, latency={"median": 260_000_000},
                      footprint=footprint(code_flash=70_000))
    code, out, err = cli_compare(capsys, tmp_path, make_run(), other)
    assert code == 3, err
    assert "the environments differ: compiler (baseline: arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205; " \
           f"candidate: {DEBIAN_13_COMPILER})" in " ".join(out.split())
    for metric in ("latency.median", "footprint.code_flash", "footprint.total_flash"):
        row = table_row(out, metric)
        assert "info" in row and "not judged: the compiler differs" in row and "regression" not in row
    assert out.strip().splitlines()[-1] == "not comparable: the compiler differs; parity shows no regression"


def test_parity_is_judged_whatever_the_environment(capsys, tmp_path):
    other = candidate(environment={"compiler": DEBIAN_13_COMPILER}, parity={"exact_patches": 63})
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), other)
    assert code == 1
    assert "regression" in table_row(out, "parity.exact_patches")
    assert out.strip().splitlines()[-1] == "1 regression: parity.exact_patches"


@pytest.mark.parametrize("environment, parts", [
    ({"model_sha256": OTHER_MODEL_SHA256}, "model"),
    ({"target": "host"}, "target"),
    ({"flags": ["-std=c99", "-O0", "-mcpu=cortex-m33"]}, "flags"),
    ({"compiler": None}, "compiler"),
    ({"compiler": DEBIAN_13_COMPILER, "flags": ["-O3"]}, "compiler and flags"),
])
def test_each_part_of_the_environment_is_named_when_it_differs(environment, parts):
    comparison = compare(make_run(environment=environment), candidate(latency={"median": 300_000_000}))
    assert not comparison.comparable and not comparison.regressed
    verb = "differs" if " and " not in parts else "differ"
    assert comparison.row("latency.median").note == f"not judged: the {parts} {verb}"
    assert comparison.row("parity.exact_patches").verdict == "ok"


def test_the_host_and_the_run_date_are_not_the_environment():
    other = candidate(environment={"host": {"hostname": "other", "platform": "Linux-6.12", "python": "3.13.1"},
                                   "git_sha": "0123456789ab", "build_id": "another"})
    assert compare(make_run(), other).comparable


@pytest.mark.parametrize("content, message", [
    ("{ not json", "not valid JSON"),
    (json.dumps({"schema_version": 2}), "missing key 'run_id'"),
    (json.dumps(make_run(schema_version=7)), "schema_version 7"),
])
def test_a_corrupt_baseline_file_exits_2_with_a_message(capsys, tmp_path, content, message):
    bad = tmp_path / "qemu-m33.json"
    bad.write_text(content)
    good = write_run(tmp_path, candidate())
    code, out, err = run_cli(capsys, "compare", bad, good)
    assert code == 2 and out == ""
    assert message in err and str(bad) in err and "Traceback" not in err


def test_a_missing_candidate_exits_2(capsys, tmp_path):
    base = write_run(tmp_path, make_run())
    code, _, err = run_cli(capsys, "compare", base, tmp_path / "nowhere")
    assert code == 2 and "nowhere" in err and "no such file" in err


# --- thresholds -------------------------------------------------------------------------------

def test_a_threshold_option_relaxes_a_rule(capsys, tmp_path):
    code, out, _ = cli_compare(capsys, tmp_path, make_run(), candidate(latency={"median": 206_000_000}),
                               "--threshold", "latency.instructions=5")
    assert code == 0 and "ok" in table_row(out, "latency.median")


def test_a_thresholds_file_then_options(capsys, tmp_path):
    file = tmp_path / "thresholds.toml"
    file.write_text("[latency]\ninstructions = 5\n[footprint]\ntotal_flash = 3\ncode_flash = 10\n")
    cand = candidate(latency={"median": 206_000_000}, footprint=footprint(code_flash=54_000))
    code, _, _ = cli_compare(capsys, tmp_path, make_run(), cand, "--thresholds", file)
    assert code == 0
    thresholds = Thresholds.load(file, ["footprint.total_flash=0.5%"])
    assert thresholds["latency.instructions"] == 5 and thresholds["footprint.total_flash"] == 0.5
    assert thresholds["latency.cycles"] == DEFAULT_THRESHOLDS["latency.cycles"]


@pytest.mark.parametrize("option, message", [
    ("latency.ns=5", "unknown threshold 'latency.ns' \\(ns latency is reported, never judged\\)"),
    ("parity.exact_patches=1", "unknown threshold 'parity.exact_patches'"),
    ("total_flash=1", "unknown threshold 'total_flash'; known: latency.instructions"),
    ("latency.cycles", "expected NAME=PERCENT"),
    ("latency.cycles=fast", "'fast' is not a percentage"),
    ("latency.cycles=-1", "not a percentage of 0 or more"),
    ("latency.cycles=nan", "not a percentage of 0 or more"),
])
def test_bad_thresholds_are_refused(capsys, tmp_path, option, message):
    with pytest.raises(HilError, match=message):
        Thresholds.load(None, [option])
    code, _, err = cli_compare(capsys, tmp_path, make_run(), candidate(), "--threshold", option)
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    ("[latency]\ninstructions = 'two'\n", "is not a percentage"),
    ("[latency]\nns = 2\n", "unknown threshold 'latency.ns'"),
    ("latency = 2\n", "unknown threshold 'latency'"),
    ("[latency\n", "not valid TOML"),
    ("[footprint]\ntotal_ram = true\n", "is not a percentage"),
])
def test_bad_threshold_files_are_refused(tmp_path, content, message):
    file = tmp_path / "t.toml"
    file.write_text(content)
    with pytest.raises(HilError, match=message):
        Thresholds.load(file)
    with pytest.raises(HilError, match="no such thresholds file"):
        Thresholds.load(tmp_path / "absent.toml")


# --- the rules, on the comparison itself ------------------------------------------------------

@pytest.mark.parametrize("unit, median, verdict", [
    ("instructions", 203_000_000, "ok"),  # +1.5 %
    ("instructions", 204_000_000, "ok"),  # exactly +2 %: "more than" 2 % regresses
    ("instructions", 204_000_001, "regression"),
    ("instructions", 195_000_000, "better"),
    ("cycles", 208_000_000, "ok"),  # +4 %
    ("cycles", 212_000_000, "regression"),  # +6 %
    ("ns", 400_000_000, "info"),  # +100 %: host time is never judged
    ("ns", 100_000_000, "info"),
])
def test_latency_rules(unit, median, verdict):
    ms = {"ms_at_clock": None}
    base = make_run(latency={"unit": unit, **ms})
    cand = candidate(latency={"unit": unit, "median": median, **ms})
    row = compare(base, cand).row("latency.median")
    assert row.verdict == verdict
    assert row.delta == median - 200_000_000
    assert compare(base, cand).regressed == (verdict == "regression")


@pytest.mark.parametrize("key", ["activation_ram", "runtime_ram", "weights_flash", "code_flash"])
def test_every_footprint_figure_is_judged(key):
    grown = footprint(**{key: footprint()[key] * 102 // 100})
    comparison = compare(make_run(), candidate(footprint=grown))
    assert comparison.row(f"footprint.{key}").verdict == "regression"
    assert comparison.regressed


@pytest.mark.parametrize("parity, metric", [
    ({"exact_patches": 63}, "parity.exact_patches"),
    ({"max_abs_diff_lsb": 1}, "parity.max_abs_diff_lsb"),
    ({"top1_agreement": 0.984375}, "parity.top1_agreement"),
    ({"cosine_min": 0.99999}, "parity.cosine_min"),
    ({"rmse": 1e-6}, "parity.rmse"),
])
def test_any_parity_loss_regresses(parity, metric):
    comparison = compare(make_run(), candidate(parity=parity))
    assert [row.metric for row in comparison.regressions] == [metric]


def test_a_parity_gain_is_better():
    base = make_run(parity={"exact_patches": 60, "max_abs_diff_lsb": 2, "top1_agreement": 0.96875})
    comparison = compare(base, candidate())
    assert {row.metric for row in comparison.rows if row.verdict == "better"} == {
        "parity.exact_patches", "parity.max_abs_diff_lsb", "parity.top1_agreement"}
    assert not comparison.regressed


def test_different_patch_counts_judge_the_exact_fraction():
    base = make_run(parity={"patches": 64, "exact_patches": 64})
    assert compare(base, candidate(parity={"patches": 32, "exact_patches": 32})).row(
        "parity.exact_patches").verdict == "ok"
    row = compare(base, candidate(parity={"patches": 128, "exact_patches": 127})).row("parity.exact_patches")
    assert row.verdict == "regression" and "64/64 vs 127/128" in row.note


def test_unknown_on_either_side_is_info_with_a_note():
    comparison = compare(make_run(footprint=footprint(runtime_ram=None)),
                         candidate(footprint=footprint(runtime_ram=9_000)))
    row = comparison.row("footprint.runtime_ram")
    assert row.verdict == "info" and row.note == "unknown in the baseline; not judged" and row.delta is None
    assert comparison.row("footprint.total_ram").verdict == "info"
    assert not comparison.regressed
    row = compare(make_run(), candidate(parity={"max_abs_diff_lsb": None})).row("parity.max_abs_diff_lsb")
    assert row.verdict == "info" and "unknown in the candidate" in row.note


def test_growth_from_zero_regresses():
    base = make_run(parity={"max_abs_diff_lsb": 0})
    row = compare(base, candidate(parity={"max_abs_diff_lsb": 3})).row("parity.max_abs_diff_lsb")
    assert row.verdict == "regression" and row.delta == 3 and row.delta_percent is None


def test_units_that_differ_are_not_judged():
    row = compare(make_run(), candidate(latency={"unit": "cycles", "median": 900_000_000})).row("latency.median")
    assert row.verdict == "info" and "units differ" in row.note


def test_compare_validates_dicts():
    broken = make_run()
    del broken["latency"]["median"]
    with pytest.raises(HilError, match="candidate: .*missing key 'latency.median'"):
        compare(make_run(), broken)


# --- baselines --------------------------------------------------------------------------------

def test_save_baseline_keeps_one_per_target_and_compiler(tmp_path):
    run_dir = write_run(tmp_path / "runs", make_run())
    path = save_baseline(tmp_path / "results", run_dir)
    assert path == baseline_path(tmp_path / "results" / "baselines", "qemu-m33", make_run()["environment"]["compiler"])
    assert path == tmp_path / "results/baselines/qemu-m33/arm-none-eabi-gcc-15-12.2.rel1-1-12.2.1-20221205.json"
    assert path.read_bytes() == (run_dir / "run.json").read_bytes()
    newer = write_run(tmp_path / "runs", candidate())
    save_baseline(tmp_path / "results", newer / "run.json")
    assert json.loads(path.read_text())["run_id"] == candidate()["run_id"]
    other_compiler = write_run(tmp_path / "runs", make_run(environment={"compiler": DEBIAN_13_COMPILER,
                                                                        "date": "2026-11-27T06:15:02Z"}))
    beside = save_baseline(tmp_path / "results", other_compiler)
    assert beside.parent == path.parent and beside != path and path.is_file()


def test_an_invalid_run_is_not_saved_as_a_baseline(tmp_path):
    broken = make_run()
    del broken["footprint"]
    run_dir = write_run(tmp_path, broken)
    with pytest.raises(HilError, match="missing key 'footprint'"):
        save_baseline(tmp_path / "results", run_dir)
    assert not (tmp_path / "results" / "baselines").exists()


def test_baseline_path_refuses_what_is_not_a_target_id(tmp_path):
    with pytest.raises(HilError, match="not a target id"):
        baseline_path(tmp_path, "../etc", "gcc")


def test_baseline_save_then_compare_from_the_command_line(capsys, tmp_path):
    results = tmp_path / "results"
    run_dir = write_run(tmp_path / "runs", make_run())
    code, out, err = run_cli(capsys, "baseline", "save", run_dir, "--results-dir", results)
    assert code == 0, err
    saved = next((results / "baselines" / "qemu-m33").glob("*.json"))
    assert f"saved {saved}" in out and make_run()["run_id"] in out
    slower = write_run(tmp_path / "runs", candidate(latency={"median": 206_000_000}))
    code, out, _ = run_cli(capsys, "compare", saved, slower)
    assert code == 1 and "regression" in table_row(out, "latency.median")


def test_a_baselines_folder_gives_the_baseline_of_the_candidates_compiler(capsys, tmp_path):
    results = tmp_path / "results"
    for run in (make_run(), make_run(environment={"compiler": DEBIAN_13_COMPILER, "date": "2026-11-20T00:00:00Z"},
                                     latency={"median": 150_000_000})):
        save_baseline(results, write_run(tmp_path / "runs", run))
    slower = write_run(tmp_path / "candidates", candidate(latency={"median": 206_000_000}))
    code, out, _ = run_cli(capsys, "compare", results / "baselines", slower)
    assert code == 1 and "regression" in table_row(out, "latency.median")
    assert "baseline for qemu-m33 built with arm-none-eabi-gcc (15:12.2.rel1-1)" in " ".join(out.split())
    newer = write_run(tmp_path / "candidates2", candidate(environment={"compiler": DEBIAN_13_COMPILER},
                                                           latency={"median": 151_000_000}))
    code, out, _ = run_cli(capsys, "compare", results / "baselines", newer)
    assert code == 0 and "ok" in table_row(out, "latency.median")


def test_a_baselines_folder_without_the_candidates_compiler_judges_parity_only(capsys, tmp_path):
    results = tmp_path / "results"
    save_baseline(results, write_run(tmp_path / "runs", make_run()))
    other = write_run(tmp_path / "candidates", candidate(environment={"compiler": DEBIAN_13_COMPILER}))
    code, out, _ = run_cli(capsys, "compare", results / "baselines", other)
    text = " ".join(out.split())
    assert code == 3
    assert f"no baseline for qemu-m33 built with {DEBIAN_13_COMPILER}" in text and "hil baseline save" in text
    assert "the environments differ: compiler" in text


def test_a_baselines_folder_without_the_target_exits_2(capsys, tmp_path):
    (tmp_path / "baselines").mkdir()
    run = write_run(tmp_path / "runs", make_run())
    code, out, err = run_cli(capsys, "compare", tmp_path / "baselines", run)
    assert code == 2 and "no baseline for target qemu-m33" in err and "Traceback" not in err


def test_baseline_save_of_a_missing_run_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "baseline", "save", tmp_path / "nowhere", "--results-dir", tmp_path)
    assert code == 2 and "hil baseline: error:" in err and "Traceback" not in err


def test_large_float_figures_print_in_full(capsys, tmp_path):
    base = make_run(latency={"unit": "ns", "median": 5_000_000.0})
    code, out, _ = cli_compare(capsys, tmp_path, base, candidate(latency={"unit": "ns", "median": 7_500_000.0}))
    assert code == 0
    row = table_row(out, "latency.median")
    assert "5000000" in row and "7500000" in row and "+2500000" in row and "+50.00 %" in row and "info" in row


def test_float_rounding_in_parity_statistics_is_not_a_loss():
    """A bit-exact run's cosine can be 1.0000000000000002 (seen on a real host run)."""
    base = make_run(parity={"cosine_min": 1.0000000000000002})
    row = compare(base, candidate(parity={"cosine_min": 0.9999999999999998})).row("parity.cosine_min")
    assert row.verdict == "ok" and "float rounding" in row.note
    assert compare(base, candidate(parity={"cosine_min": 0.99999})).row("parity.cosine_min").verdict == "regression"
