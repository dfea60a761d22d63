"""Tests of the demo dataset: the same bytes everywhere, written once, read like any dataset."""

import hashlib

import numpy as np
import pytest
import soundfile

from harness.audio.datasets import load_dataset
from harness.audio.demo import CLIPS_PER_CLASS, DEMO_CLASSES, demo_dataset, demo_files, demo_waveform
from harness.audio.frontend import FRONTENDS, audio_patches
from harness.errors import HilError

# The demo dataset's fingerprint: SHA-256 over each file's path and SHA-256, in path order.
# It is the same on every machine; a change to the generators or to the file format changes it.
DEMO_SHA256 = "e11646d9ae24d98916afe5de1f8cbcc6d56ae79797c4668688bb9bfe07095048"


def _fingerprint(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for relative in sorted(files):
        digest.update(relative.encode())
        digest.update(hashlib.sha256(files[relative]).digest())
    return digest.hexdigest()


def test_the_files_are_the_same_bytes_on_every_machine():
    assert _fingerprint(demo_files()) == DEMO_SHA256


def test_the_dataset_is_a_folder_of_class_folders_of_16_khz_16_bit_wavs(tmp_path):
    root = demo_dataset(tmp_path / "demo")
    written = {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*.wav")}
    assert _fingerprint(written) == DEMO_SHA256
    assert sorted(path.name for path in root.iterdir()) == list(DEMO_CLASSES)
    info = soundfile.info(root / "siren" / "siren-00.wav")
    assert (info.samplerate, info.channels, info.subtype, info.duration) == (16_000, 1, "PCM_16", 2.0)


def test_an_existing_dataset_is_reused_and_a_changed_file_rewritten(tmp_path):
    root = demo_dataset(tmp_path)
    kept, damaged = root / "hiss" / "hiss-00.wav", root / "whistle" / "whistle-01.wav"
    kept_inode = kept.stat().st_ino
    damaged.write_bytes(b"RIFF")
    demo_dataset(tmp_path)
    assert kept.stat().st_ino == kept_inode  # not written again
    assert damaged.read_bytes() == demo_files()["whistle/whistle-01.wav"]


def test_the_default_place_is_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    assert demo_dataset() == tmp_path / "demo-dataset"
    blocker = tmp_path / "blocked"
    blocker.write_text("")
    monkeypatch.setenv("HIL_CACHE_DIR", str(blocker))
    with pytest.raises(HilError, match="HIL_CACHE_DIR"):
        demo_dataset()


def test_it_loads_as_a_dataset_with_every_class_and_clip(tmp_path):
    dataset = load_dataset(demo_dataset(tmp_path))
    assert dataset.classes == DEMO_CLASSES
    assert len(dataset.clips) == len(DEMO_CLASSES) * CLIPS_PER_CLASS
    assert dataset.skipped == ()


def test_each_clip_gives_two_zoo_patches_that_differ_between_classes(tmp_path):
    root = demo_dataset(tmp_path)
    means = {}
    for name in DEMO_CLASSES:
        patches = audio_patches(root / name / f"{name}-00.wav", FRONTENDS["zoo"])
        assert patches.shape == (2, 64, 96)
        # Loud events over a floor: well inside the shared model's input range (-9.2..5.2).
        assert -9.2 < patches.min() and patches.max() < 5.2
        means[name] = patches.mean(axis=(0, 2))
    spectra = np.array(list(means.values()))
    assert np.min(np.linalg.norm(spectra[:, None] - spectra[None], axis=2)[np.triu_indices(4, 1)]) > 1.0


def test_training_clips_are_other_clips_than_the_demo_files():
    for name in DEMO_CLASSES:
        demo_clips = {demo_waveform(name, i).tobytes() for i in range(CLIPS_PER_CLASS)}
        assert all(demo_waveform(name, i, split="train").tobytes() not in demo_clips for i in range(20))

