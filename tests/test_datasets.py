"""Tests of the dataset readers: ESC-50 folders, class folders, CSV lists, class-name files."""

import shutil
from pathlib import Path

import pytest

from harness.audio.datasets import Clip, load_class_names, load_dataset
from harness.audio.demo import DEMO_CLASSES, demo_dataset
from harness.errors import HilError

SHARED_CONFIG = Path(__file__).resolve().parents[2] / "shared/models/st-yamnet256-esc10/yamnet_256_64x96_config.yaml"
ESC10 = ("dog", "chainsaw", "crackling_fire", "helicopter", "rain",
         "crying_baby", "clock_tick", "sneezing", "rooster", "sea_waves")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return demo_dataset(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def esc50(tmp_path, demo) -> Path:
    """An ESC-50-shaped folder: 12 clips, two ESC-10 categories and one other, folds 1 and 2."""
    root = tmp_path / "ESC-50"
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    sources = sorted(demo.rglob("*.wav"))
    for number, (category, esc10) in enumerate([("dog", True), ("rain", True), ("cat", False)] * 4):
        name = f"{1 + number % 2}-{number}-A-0.wav"
        shutil.copy(sources[number], root / "audio" / name)
        rows.append(f"{name},{1 + number % 2},{number % 3},{category},{esc10},{number},A")
    (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    return root


# --- class folders and the demo dataset ------------------------------------------------------


def test_a_folder_of_class_folders_labels_each_file_by_its_folder(demo):
    dataset = load_dataset(demo)
    assert dataset.name == demo.name and dataset.root == demo
    assert dataset.classes == DEMO_CLASSES
    assert dataset.clips[0] == Clip(demo / "hiss" / "hiss-00.wav", "hiss")
    assert {clip.label for clip in dataset.clips} == set(DEMO_CLASSES)


def test_the_models_class_order_is_kept(demo):
    order = ("whistle", "siren", "hiss", "ticking")
    assert load_dataset(demo, classes=order).classes == order


def test_a_label_that_is_not_a_model_class_is_named(demo):
    with pytest.raises(HilError, match=r"hiss-00.wav .*label 'hiss' is not one of the model's classes"):
        load_dataset(demo, classes=("siren", "ticking", "whistle"))


def test_skip_bad_leaves_such_clips_out_and_lists_them(demo):
    dataset = load_dataset(demo, classes=("siren", "ticking", "whistle"), skip_bad=True)
    assert len(dataset.clips) == 15 and len(dataset.skipped) == 5
    assert all("label 'hiss'" in line for line in dataset.skipped)


def test_an_unreadable_file_is_named_or_skipped(tmp_path, demo):
    root = tmp_path / "clips"
    shutil.copytree(demo, root)
    (root / "siren" / "notes.txt").write_text("recorded on Tuesday")
    with pytest.raises(HilError, match=r"notes.txt .*cannot read it as audio.*--skip-bad"):
        load_dataset(root)
    dataset = load_dataset(root, skip_bad=True)
    assert len(dataset.clips) == 20
    assert len(dataset.skipped) == 1 and "notes.txt" in dataset.skipped[0]


def test_an_empty_class_is_named(tmp_path, demo):
    root = tmp_path / "clips"
    shutil.copytree(demo, root)
    (root / "dog").mkdir()
    with pytest.raises(HilError, match="class 'dog': no clip of it"):
        load_dataset(root)
    assert load_dataset(root, skip_bad=True).skipped == (f"class 'dog': no clip of it in {root}",)
    with pytest.raises(HilError, match="class 'rooster': no clip of it"):
        load_dataset(demo, classes=(*DEMO_CLASSES, "rooster"))


def test_a_missing_dataset_or_a_folder_without_classes_is_refused(tmp_path):
    with pytest.raises(HilError, match="no such dataset"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(HilError, match="no class folders"):
        load_dataset(tmp_path)


# --- CSV lists ----------------------------------------------------------------------------


def test_a_csv_of_path_and_label_relative_to_its_folder(tmp_path, demo):
    shutil.copy(demo / "hiss" / "hiss-02.wav", tmp_path / "local.wav")
    table = tmp_path / "list.csv"
    table.write_text(f"path,label\n{demo}/siren/siren-01.wav,siren\n\nlocal.wav,hiss\n")
    dataset = load_dataset(table)
    assert dataset.name == "list" and dataset.root == tmp_path and dataset.classes == ("hiss", "siren")
    assert dataset.clips == (Clip(demo / "siren/siren-01.wav", "siren"), Clip(tmp_path / "local.wav", "hiss"))


def test_a_csv_names_the_line_of_a_missing_file_or_a_bad_row(tmp_path, demo):
    table = tmp_path / "list.csv"
    table.write_text(f"{demo}/siren/siren-01.wav,siren\ngone.wav,siren\n")
    with pytest.raises(HilError, match=r"gone.wav \(listed in .*list.csv line 2\): no such file"):
        load_dataset(table)
    table.write_text(f"{demo}/siren/siren-01.wav;siren\n")
    with pytest.raises(HilError, match=r"list.csv line 1: expected path,label"):
        load_dataset(table)


# --- ESC-50 -------------------------------------------------------------------------------


def test_esc50_with_the_esc10_classes_keeps_the_esc10_rows(esc50):
    dataset = load_dataset(esc50, classes=ESC10, skip_bad=True)
    assert dataset.name == "ESC-10" and dataset.classes == ESC10
    assert sorted({clip.label for clip in dataset.clips}) == ["dog", "rain"]
    assert len(dataset.clips) == 8
    # The other eight ESC-10 classes have no clip here; skip_bad says so, one line each.
    assert len(dataset.skipped) == 8 and all(line.startswith("class '") for line in dataset.skipped)


def test_esc50_fold_keeps_one_fold(esc50):
    dataset = load_dataset(esc50, fold=2)
    assert dataset.name == "ESC-50 fold 2" and dataset.classes == ("cat", "dog", "rain")
    assert len(dataset.clips) == 6
    assert all(clip.path.name.startswith("2-") for clip in dataset.clips)
    with pytest.raises(HilError, match="no fold 7; the folds are 1, 2"):
        load_dataset(esc50, fold=7)


def test_fold_is_only_for_esc50(demo):
    with pytest.raises(HilError, match="--fold applies to an ESC-50 folder"):
        load_dataset(demo, fold=1)


def test_esc50_names_a_missing_audio_file(esc50):
    next((esc50 / "audio").iterdir()).unlink()
    with pytest.raises(HilError, match=r"esc50.csv\): no such file"):
        load_dataset(esc50)


# --- class names ----------------------------------------------------------------------------


def test_class_names_one_a_line(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("siren\n whistle \n\nhiss\n")
    assert load_class_names(names) == ("siren", "whistle", "hiss")


@pytest.mark.skipif(not SHARED_CONFIG.is_file(), reason="the shared model's config is not beside the checkout")
def test_class_names_from_the_shared_models_zoo_config():
    assert load_class_names(SHARED_CONFIG) == ESC10


def test_class_names_from_a_zoo_config_yaml(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("general:\n  project_name: x\ndataset:\n  name: esc10\n  class_names: [dog, rain]\n")
    assert load_class_names(config) == ("dog", "rain")
    config.write_text("dataset:\n  name: esc10\n")
    with pytest.raises(HilError, match="dataset: class_names"):
        load_class_names(config)


def test_bad_class_name_files_are_refused(tmp_path):
    with pytest.raises(HilError, match="cannot read the class names"):
        load_class_names(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(HilError, match="no class names"):
        load_class_names(empty)
    repeated = tmp_path / "repeated.txt"
    repeated.write_text("dog\nrain\ndog\n")
    with pytest.raises(HilError, match="repeated: dog"):
        load_class_names(repeated)
