"""The accuracy block of run.json: the schema and its relations, report.md beside the published
table, and the confusion chart. Blocks here are test data, not measurements."""

import json

import pytest

from harness.accuracy.aggregation import AGGREGATIONS
from harness.errors import HilError
from harness.results.report import report_markdown, write_report_files
from harness.results.schema import SCHEMA_PATH, load_run, validate_run

from results_factory import make_run, write_run

CLASSES = ["chirp", "knock", "hum"]


def block(**overrides) -> dict:
    """Six clips, two per class; the device (= golden) misses one hum clip, taken for a chirp."""
    base = {
        "dataset": {"name": "demo", "fold": None, "skipped": []},
        "clips": 6, "patches": 13, "classes": CLASSES, "labelled": True, "aggregation": "mean",
        "frontend": {"name": "zoo", "sample_rate": 16_000, "hop_length": 160, "log_offset": 1e-4},
        "device": 5 / 6, "golden": 5 / 6, "float": 1.0, "float_model": "demo.h5",
        "agreement": 1.0, "disagreements": [],
        "per_class_recall": [1.0, 1.0, 0.5],
        "confusion": [[2, 0, 0], [0, 2, 0], [1, 0, 1]],
        "frontend_seconds": 0.6, "device_seconds": 12.0, "seconds_per_clip": 2.1,
    }
    return {**base, **overrides}


def test_a_run_with_an_accuracy_block_loads_and_one_without_still_does(tmp_path):
    assert load_run(write_run(tmp_path, make_run(accuracy=block())))["accuracy"]["device"] == 5 / 6
    assert "accuracy" not in load_run(write_run(tmp_path / "older", make_run()))


def test_the_schema_names_the_aggregations_the_harness_has():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert tuple(schema["properties"]["accuracy"]["properties"]["aggregation"]["enum"]) == AGGREGATIONS


def test_an_agreement_only_block_has_no_accuracy_and_no_confusion():
    only = block(labelled=False, device=None, golden=None, float=None, per_class_recall=None, confusion=None,
                 classes=["0", "1", "2"])
    assert validate_run(make_run(accuracy=only))["accuracy"]["agreement"] == 1.0


@pytest.mark.parametrize("overrides, message", [
    ({"confusion": [[2, 0, 0], [0, 2, 0], [1, 0, 2]]}, r"accuracy.confusion holds 7 clips, not accuracy.clips \(6\)"),
    ({"device": 1.0}, r"accuracy.device \(1.0\) is not the confusion's diagonal"),
    ({"confusion": [[2, 0], [0, 4]]}, r"accuracy.confusion is not 3 x 3"),
    ({"agreement": 0.5}, r"accuracy.agreement \(0.5\) is not the share of clips without a disagreement \(1.0\)"),
    ({"labelled": False}, r"accuracy.device must be a number exactly when accuracy.labelled is true"),
    ({"aggregation": "median"}, r"accuracy.aggregation: 'median' is not one of"),
    ({"golden": 1.2}, r"accuracy.golden: 1.2 is greater than the maximum of 1"),
    ({"clips": 0}, r"accuracy.clips: 0 is less than the minimum of 1"),
])
def test_a_block_whose_figures_contradict_each_other_is_refused(overrides, message):
    with pytest.raises(HilError, match=message):
        validate_run(make_run(accuracy=block(**overrides)), "run")


def test_a_missing_accuracy_key_is_named():
    incomplete = block()
    del incomplete["agreement"]
    with pytest.raises(HilError, match=r"missing key 'accuracy.agreement'"):
        validate_run(make_run(accuracy=incomplete), "run")


def test_the_report_puts_the_run_beside_the_published_figures_with_recall_and_confusion():
    report = report_markdown(make_run(accuracy=block()))
    assert "| this run, qemu-m33 | demo | 6 | 100.0 % | 83.3 % | 83.3 % | 100.0 % |" in report
    assert "| published: Yamnet-256 64x96, STM32 model zoo | ESC-10 | | 94.6 % | 94.6 % | | |" in report
    assert "| hum | 50.0 % | 1 | 0 | 1 |" in report
    assert "front end `zoo`; one prediction per clip by `mean`; float model `demo.h5`" in report
    assert "2.10 s per clip end to end" in report


def test_the_report_names_every_clip_on_which_device_and_golden_disagree():
    disagreeing = block(agreement=5 / 6, golden=4 / 6, disagreements=[{"clip": "hum/3.wav", "device": 0, "golden": 1}])
    report = report_markdown(make_run(accuracy=disagreeing))
    assert "- device and golden disagree on `hum/3.wav`: device chirp, golden knock" in report
    assert "| 83.3 % |" in report


def test_a_run_without_a_block_has_no_accuracy_section():
    assert "Clip-level accuracy" not in report_markdown(make_run())


def test_the_confusion_chart_is_written_only_when_there_is_a_confusion(tmp_path):
    write_report_files(tmp_path, make_run(accuracy=block()))
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    only = tmp_path / "agreement-only"
    only.mkdir()
    write_report_files(only, make_run(accuracy=block(labelled=False, device=None, golden=None, float=None,
                                                     per_class_recall=None, confusion=None)))
    assert sorted(p.name for p in only.iterdir()) == ["latency_per_layer.png", "report.md"]
