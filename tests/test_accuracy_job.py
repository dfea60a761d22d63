"""`hil accuracy` and `hil bench --dataset` end to end on the host target: the demo dataset
through the default model, the run.json accuracy block, report and chart, the exit codes, and
bad input refused before anything runs."""

import numpy as np
import pytest
import soundfile

from harness import bench as bench_module
from harness.accuracy.aggregation import clip_predictions
from harness.audio.demo import CLIPS_PER_CLASS, demo_dataset, demo_waveform
from harness.cli import main
from harness.models.yamnet256 import CLASS_NAMES, default_float_model_path
from harness.parity.golden import golden_outputs
from harness.results.schema import load_run

CLIPS = len(CLASS_NAMES) * CLIPS_PER_CLASS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return demo_dataset(tmp_path_factory.mktemp("demo"))


def hil(capsys, results, *args, command="accuracy"):
    code = main([command, "--target", "host", "--results-dir", str(results), *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def the_run(results):
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    return run_dir, load_run(run_dir)


def test_the_default_model_on_the_demo_dataset_device_equals_golden_well_above_chance(capsys, demo, tmp_path):
    code, out, _ = hil(capsys, tmp_path, "--dataset", demo)
    assert code == 0
    run_dir, record = the_run(tmp_path)
    block = record["accuracy"]
    assert block["clips"] == CLIPS and block["classes"] == list(CLASS_NAMES) and block["labelled"]
    assert block["patches"] == record["parity"]["patches"] == record["parity"]["exact_patches"]
    assert block["agreement"] == 1.0 and block["disagreements"] == []
    assert block["device"] == block["golden"] > 2 / len(CLASS_NAMES)  # twice chance at least
    assert block["aggregation"] == "mean" and block["frontend"]["name"] == "zoo"
    assert block["float_model"] == default_float_model_path().name and block["float"] > 2 / len(CLASS_NAMES)
    assert sum(map(sum, block["confusion"])) == CLIPS
    saved = np.load(run_dir / "outputs.npz")
    owner = saved["clip_of_patch"]
    labels = np.repeat(np.arange(len(CLASS_NAMES)), CLIPS_PER_CLASS)  # the demo's clips, class by class
    predicted = clip_predictions(saved["device"], owner, CLIPS, "mean")
    assert np.mean(predicted == labels) == block["device"]  # the figure is the saved outputs' figure
    assert (run_dir / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (run_dir / "report.md").read_text()
    assert "## Clip-level accuracy" in report and "| published: Yamnet-256 64x96, STM32 model zoo | ESC-10 |" in report
    assert f"device = golden on {CLIPS}/{CLIPS} clips" in out


def test_bench_with_a_dataset_is_the_same_job_and_records_the_vote(capsys, demo, tmp_path):
    code, out, _ = hil(capsys, tmp_path, "--dataset", demo, "--aggregation", "vote", command="bench")
    assert code == 0
    run_dir, record = the_run(tmp_path)
    block = record["accuracy"]
    assert block["aggregation"] == "vote" and block["agreement"] == 1.0
    saved = np.load(run_dir / "outputs.npz")
    labels = np.repeat(np.arange(len(CLASS_NAMES)), CLIPS_PER_CLASS)
    voted = clip_predictions(saved["golden"], saved["clip_of_patch"], CLIPS, "vote")
    assert np.mean(voted == labels) == block["golden"]
    assert "clip-level accuracy" in out


def test_a_clip_on_which_device_and_golden_disagree_exits_1_and_is_named(capsys, demo, tmp_path, monkeypatch):
    def fake_golden_that_differs_on_the_first_clip(model_path, inputs):
        outputs = golden_outputs(model_path, inputs).copy()
        outputs[:2] = 0.0  # the first clip's two patches
        outputs[:2, ..., -1] = 1.0  # now say the last class, which the first clip (class 0) is not
        return outputs

    monkeypatch.setattr(bench_module, "golden_outputs", fake_golden_that_differs_on_the_first_clip)
    code, out, _ = hil(capsys, tmp_path, "--dataset", demo)
    assert code == 1
    run_dir, record = the_run(tmp_path)
    block = record["accuracy"]
    first = f"{CLASS_NAMES[0]}/{CLASS_NAMES[0]}-00.wav"
    assert block["disagreements"][0]["clip"] == first
    assert block["disagreements"][0]["golden"] == len(CLASS_NAMES) - 1
    assert block["agreement"] == 1 - len(block["disagreements"]) / CLIPS < 1.0
    assert f"device and golden disagree on `{first}`" in (run_dir / "report.md").read_text()


def write_clip(path, seconds=1.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, demo_waveform(CLASS_NAMES[0], 0)[: int(16_000 * seconds)], 16_000)


@pytest.fixture
def stray_label(tmp_path):
    """A dataset with one clip labelled 'dog', which the default model does not know."""
    root = tmp_path / "stray"
    for name in CLASS_NAMES:
        write_clip(root / name / "a.wav")
    write_clip(root / "dog" / "bark.wav")
    return root


@pytest.mark.parametrize("args, message", [
    (["--dataset", "DEMO", "--patches", "3"], "--patches and --dataset exclude each other"),
    (["--classes", "names.txt"], "--classes needs --dataset PATH"),
    (["--dataset", "DEMO", "--float-model", "model.onnx"], "--float-model model.onnx: no such file"),
    (["--dataset", "DEMO", "--float-model", "CLIP"], "expected a Keras .h5 or a float .tflite, not '.wav'"),
    (["--dataset", "DEMO", "--agreement-only", "--float-model", "x.h5"], "exclude each other"),
    (["--dataset", "DEMO", "--fold", "2"], "--fold applies to an ESC-50 folder"),
    (["--dataset", "no/such/folder"], "no/such/folder: no such dataset"),
])
def test_bad_options_are_refused_with_exit_2_and_no_run(capsys, demo, tmp_path, args, message):
    clip = next(demo.glob("*/*.wav"))
    args = [{"DEMO": str(demo), "CLIP": str(clip)}.get(arg, arg) for arg in args]
    code, _, err = hil(capsys, tmp_path / "results", *args, command="bench")
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_an_unknown_front_end_is_refused_with_the_choices(capsys, demo, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        hil(capsys, tmp_path, "--dataset", demo, "--frontend", "mfcc")
    assert exit_.value.code == 2 and "argument --frontend: invalid choice: 'mfcc'" in capsys.readouterr().err


def test_a_label_the_model_does_not_have_is_named_with_its_file(capsys, stray_label, tmp_path):
    code, _, err = hil(capsys, tmp_path / "results", "--dataset", stray_label)
    assert code == 2 and "bark.wav" in err and "'dog' is not one of the model's classes" in err
    assert "Traceback" not in err


def test_skip_bad_leaves_the_stray_clip_out_and_says_so(capsys, stray_label, tmp_path):
    code, out, _ = hil(capsys, tmp_path / "results", "--dataset", stray_label, "--skip-bad")
    assert code == 0
    run_dir, record = the_run(tmp_path / "results")
    (skipped,) = record["accuracy"]["dataset"]["skipped"]
    assert "bark.wav" in skipped and record["accuracy"]["clips"] == len(CLASS_NAMES)
    assert "1 left out with --skip-bad" in (run_dir / "report.md").read_text() and "1 left out with --skip-bad" in out


def test_class_names_that_do_not_match_the_outputs_are_refused(capsys, demo, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(CLASS_NAMES[:-1]) + "\n")
    code, _, err = hil(capsys, tmp_path / "results", "--dataset", demo, "--classes", names)
    assert code == 2
    assert f"the model has {len(CLASS_NAMES)} outputs but --classes {names} names {len(CLASS_NAMES) - 1}" in err


def test_the_shared_model_on_the_demo_dataset_agrees_clip_by_clip_without_labels(capsys, demo, tmp_path,
                                                                                 shared_model_path):
    config = shared_model_path.with_name("yamnet_256_64x96_config.yaml")
    common = ["--model", shared_model_path, "--classes", config, "--dataset", demo]
    code, _, err = hil(capsys, tmp_path / "refused", *common)
    assert code == 2 and "not one of the model's classes (dog, chainsaw," in err
    code, _, _ = hil(capsys, tmp_path / "agreement", *common, "--agreement-only")
    assert code == 0
    run_dir, record = the_run(tmp_path / "agreement")
    block = record["accuracy"]
    assert not block["labelled"] and block["device"] is block["golden"] is None and block["confusion"] is None
    assert block["agreement"] == 1.0 and block["classes"][0] == "dog" and block["clips"] == CLIPS
    assert "Agreement only" in (run_dir / "report.md").read_text()


def test_an_esc50_folder_runs_the_model_classes_rows_of_one_fold(capsys, tmp_path):
    """An ESC-50 layout whose esc10 rows are the default model's classes, over two folds, and a
    category outside them that is not an esc10 row: --fold 2 runs the esc10 rows of fold 2 only."""
    root = tmp_path / "ESC-50"
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for fold in (1, 2):
        for index, name in enumerate(CLASS_NAMES):
            filename = f"{fold}-{index}-A-0.wav"
            write_clip(root / "audio" / filename)
            rows.append(f"{filename},{fold},{index},{name},True,{index},A")
        write_clip(root / "audio" / f"{fold}-9-A-0.wav")
        rows.append(f"{fold}-9-A-0.wav,{fold},9,dog,False,9,A")
    (root / "meta").mkdir()
    (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    code, _, _ = hil(capsys, tmp_path / "results", "--dataset", root, "--fold", 2)
    assert code == 0
    run_dir, record = the_run(tmp_path / "results")
    block = record["accuracy"]
    assert block["dataset"]["fold"] == 2 and block["dataset"]["name"] == "ESC-10 fold 2"
    assert block["clips"] == len(CLASS_NAMES) and block["agreement"] == 1.0
    assert f"| this run, host | ESC-10 fold 2 | {len(CLASS_NAMES)} |" in (run_dir / "report.md").read_text()
