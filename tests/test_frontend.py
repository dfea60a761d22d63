"""Tests of the audio front end: librosa judges the pipeline, hand-computed cases judge both."""

import dataclasses
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile

from harness.audio.frontend import (
    DEFAULT_FRONTEND,
    FRONTENDS,
    FrontEnd,
    audio_patches,
    frontend,
    load_audio,
    log_mel_patches,
    log_mel_spectrogram,
    mel_filterbank,
    non_silent_intervals,
    prepare_clip,
    quantize_patches,
)
from harness.audio.patches import synthetic_audio
from harness.compiler.graph import Quantization, Tensor
from harness.errors import HilError

ZOO = FRONTENDS["zoo"]
YAMNET = FRONTENDS["yamnet"]
# The shared ESC-10 model's input quantization (shared/reference/yamnet256-facts.md).
REFERENCE_SCALE = 0.056411128491163254
REFERENCE_ZERO_POINT = 35


def _clip(seed: int, seconds: float = 3.0, rate: int = 16_000) -> np.ndarray:
    """Seeded event-like audio at `rate` (made at 16 kHz, then resampled if need be)."""
    audio = synthetic_audio(np.random.default_rng(seed), seconds)
    return audio if rate == 16_000 else librosa.resample(audio, orig_sr=16_000, target_sr=rate)


def _librosa_zoo_features(path) -> np.ndarray:
    """The zoo's pipeline written with librosa, step by step from the facts sheet."""
    y, rate = librosa.load(path, sr=ZOO.sample_rate, mono=True)
    intervals = librosa.effects.split(
        y, top_db=ZOO.split_top_db, frame_length=ZOO.split_frame, hop_length=ZOO.split_hop
    )
    y = np.concatenate([y[start:stop] for start, stop in intervals])
    needed = int(ZOO.min_seconds * rate)
    if len(y) < needed:
        y = np.tile(y, -(-needed // len(y)))[:needed]
    y = y[: int(ZOO.max_seconds * rate)]
    mel = librosa.feature.melspectrogram(
        y=y, sr=rate, n_fft=ZOO.n_fft, win_length=ZOO.win_length, hop_length=ZOO.hop_length,
        window="hann", center=False, power=1.0, n_mels=ZOO.mel_bins, fmin=ZOO.fmin, fmax=ZOO.fmax,
        htk=True, norm=None,
    )
    return np.log(mel + ZOO.log_offset)


def _librosa_patches(features: np.ndarray) -> np.ndarray:
    starts = range(0, features.shape[1] - ZOO.patch_frames + 1, ZOO.patch_hop)
    return np.stack([features[:, start : start + ZOO.patch_frames] for start in starts])


def _input_tensor(scale: float = REFERENCE_SCALE, zero_point: int = REFERENCE_ZERO_POINT) -> Tensor:
    quant = Quantization(np.array([scale], np.float32), np.array([zero_point]), 0)
    return Tensor(0, "log_mel_patch", (1, 64, 96, 1), "int8", quant, None)


# --- the presets ----------------------------------------------------------------------------


def test_the_zoo_preset_is_the_shared_models_training_pipeline_and_the_default():
    assert DEFAULT_FRONTEND == "zoo" and frontend("zoo") is ZOO
    recorded = ZOO.to_json()
    assert recorded == {
        "name": "zoo", "sample_rate": 16000, "max_seconds": 10.0, "min_seconds": 1.0, "lengthen": "repeat",
        "split_top_db": 60.0, "split_frame": 3200, "split_hop": 3200, "n_fft": 512, "win_length": 400,
        "frame_length": 512, "hop_length": 160, "mel_bins": 64, "fmin": 125.0, "fmax": 7500.0,
        "htk": True, "log_offset": 1e-4, "patch_frames": 96, "patch_hop": 72,
    }
    assert FrontEnd(**recorded) == ZOO  # a recorded preset is complete


def test_an_unknown_front_end_names_the_choices():
    with pytest.raises(HilError, match="zoo, yamnet"):
        frontend("mfcc")


@pytest.mark.parametrize(
    "change, message",
    [({"htk": False}, "HTK"), ({"lengthen": "stretch"}, "lengthen"), ({"frame_length": 600}, "frame_length"),
     ({"split_hop": None}, "split")],
)
def test_an_inconsistent_front_end_is_refused(change, message):
    with pytest.raises(HilError, match=message):
        dataclasses.replace(ZOO, **change)


# --- against librosa ------------------------------------------------------------------------


def test_the_filterbank_is_librosas_htk_filterbank():
    expected = librosa.filters.mel(
        sr=16_000, n_fft=512, n_mels=64, fmin=125.0, fmax=7500.0, htk=True, norm=None, dtype=np.float64
    )
    np.testing.assert_allclose(mel_filterbank(ZOO), expected, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_silence_split_finds_librosas_intervals(seed):
    audio = _clip(seed, 5.0)
    expected = librosa.effects.split(audio, top_db=60, frame_length=3200, hop_length=3200)
    np.testing.assert_array_equal(non_silent_intervals(audio, ZOO), expected)


def test_silence_split_drops_a_quiet_gap_between_two_sounds():
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(16_000) / 16_000)
    audio = np.concatenate([tone, np.full(32_000, 1e-5), tone]).astype(np.float32)
    intervals = non_silent_intervals(audio, ZOO)
    np.testing.assert_array_equal(intervals, librosa.effects.split(audio, top_db=60, frame_length=3200,
                                                                   hop_length=3200))
    assert len(intervals) == 2
    kept = sum(stop - start for start, stop in intervals)
    assert len(prepare_clip(audio, ZOO)) == kept < len(audio) - 16_000


def test_the_log_mel_spectrogram_is_librosas():
    audio = _clip(7, 2.0)
    expected = librosa.feature.melspectrogram(
        y=audio.astype(np.float64), sr=16_000, n_fft=512, win_length=400, hop_length=160, window="hann",
        center=False, power=1.0, n_mels=64, fmin=125.0, fmax=7500.0, htk=True, norm=None,
    )
    np.testing.assert_allclose(log_mel_spectrogram(audio, ZOO), np.log(expected + 1e-4), atol=1e-4)


@pytest.mark.parametrize(
    "rate, channels",
    [(16_000, 1), (44_100, 2), (22_050, 2), (8_000, 1)],
    ids=["16k", "44k1-stereo", "22k05-stereo", "8k"],
)
def test_an_audio_file_gives_librosas_patches(tmp_path, rate, channels):
    """The closing note's front-end error: printed with -s (max and mean absolute, log-mel)."""
    mono = _clip(11, 4.0, rate)
    samples = np.stack([mono, 0.5 * mono][:channels], axis=1)
    path = tmp_path / "clip.wav"
    soundfile.write(path, samples, rate, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path, ZOO), librosa.load(path, sr=16_000)[0])
    ours, theirs = audio_patches(path, ZOO), _librosa_patches(_librosa_zoo_features(path))
    assert ours.shape == theirs.shape and ours.shape[0] >= 1
    error = np.abs(ours - theirs)
    print(f"\nfront end vs librosa, {rate} Hz x{channels}: max {error.max():.2e}, mean {error.mean():.2e} (log-mel)")
    assert error.max() < 1e-3


# --- hand-computed cases --------------------------------------------------------------------


def test_silence_gives_log_of_the_offset():
    patches = log_mel_patches(np.zeros(16_000 * 2, dtype=np.float32), ZOO)
    assert patches.shape == (2, 64, 96)  # 2 s: 197 frames -> patches at 0 and 72
    np.testing.assert_allclose(patches, np.log(1e-4), rtol=1e-6)


@pytest.mark.parametrize("hz", [300.0, 1000.0, 4000.0])
def test_a_pure_tone_lands_in_its_mel_bin(hz):
    t = np.arange(16_000) / 16_000
    patch = log_mel_patches((0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), ZOO)[0]
    edges = librosa.mel_frequencies(66, fmin=125.0, fmax=7500.0, htk=True)
    # The bin whose triangle peaks nearest the tone.
    assert np.argmax(patch.mean(axis=1)) == np.argmin(np.abs(edges[1:-1] - hz))


def test_frames_and_patches_are_counted_as_the_zoo_counts_them():
    # 1 + (samples - 512) // 160 frames; 1 + (frames - 96) // 72 patches.
    for seconds, frames, patches in [(1.0, 97, 1), (2.5, 247, 3), (5.0, 497, 6)]:
        audio = 0.1 * np.ones(int(seconds * 16_000), dtype=np.float32)
        assert log_mel_spectrogram(audio, ZOO).shape == (64, frames)
        assert log_mel_patches(audio, ZOO).shape == (patches, 64, 96)


def test_a_short_clip_is_repeated_to_one_second_and_a_long_one_cut_to_ten():
    short = np.arange(4_000, dtype=np.float32) / 4_000 + 0.5
    np.testing.assert_array_equal(prepare_clip(short, ZOO), np.tile(short, 4))
    long = np.full(16_000 * 12, 0.25, dtype=np.float32)
    assert len(prepare_clip(long, ZOO)) == 16_000 * 10


def test_yamnets_preset_pads_a_short_clip_to_one_patch():
    patches = log_mel_patches(np.full(8_000, 0.1, dtype=np.float32), YAMNET)
    assert patches.shape == (1, 64, 96)
    np.testing.assert_allclose(patches[0, :, -10:], np.log(1e-3), rtol=1e-6)  # the padding is silence


# --- quantization and files -----------------------------------------------------------------


def test_patches_are_quantized_on_the_model_input_grid():
    patches = np.array([np.full((64, 96), np.log(1e-4)), np.zeros((64, 96))], dtype=np.float32)
    quantized = quantize_patches(patches, _input_tensor())
    assert quantized.shape == (2, 1, 64, 96, 1) and quantized.dtype == np.int8
    # -9.2103 / 0.056411 = -163.27 -> -163 + 35 = -128; 0.0 -> the zero point.
    assert np.all(quantized[0] == -128) and np.all(quantized[1] == 35)
    half_step = np.full((1, 64, 96), 2.5 * 0.25, dtype=np.float32)
    assert np.all(quantize_patches(half_step, _input_tensor(0.25, 0)) == 3)  # half away from zero


def test_a_model_input_of_another_shape_is_refused():
    quant = Quantization(np.array([0.1], np.float32), np.array([0]), 0)
    with pytest.raises(HilError, match="does not hold one 64x96"):
        quantize_patches(np.zeros((1, 64, 96), np.float32), Tensor(0, "x", (1, 32, 32, 1), "int8", quant, None))


def test_an_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(HilError, match="notes.wav: cannot read it as audio"):
        load_audio(bad, ZOO)
    with pytest.raises(HilError, match="missing.wav: no such file"):
        load_audio(tmp_path / "missing.wav", ZOO)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16_000)
    with pytest.raises(HilError, match="empty.wav: the file holds no samples"):
        load_audio(empty, ZOO)


# --- hil patches ----------------------------------------------------------------------------


@pytest.fixture
def demo_clip(tmp_path):
    from harness.audio.demo import demo_dataset

    return demo_dataset(tmp_path / "demo") / "siren" / "siren-00.wav"


def _hil(capsys, *argv) -> tuple[int, str, str]:
    from harness.cli import main

    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_hil_patches_writes_the_default_models_int8_input(capsys, tmp_path, demo_clip):
    from harness.compiler.graph import read_model
    from harness.models.yamnet256 import default_model_path

    code, out, _ = _hil(capsys, "patches", demo_clip, "-o", tmp_path / "p.npy")
    assert code == 0 and "2 patches of shape [1, 64, 96, 1] int8 (front end zoo)" in out
    graph = read_model(default_model_path())
    expected = quantize_patches(audio_patches(demo_clip, ZOO), graph.tensor(graph.inputs[0]))
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


def test_hil_patches_float_and_another_front_end(capsys, tmp_path, demo_clip):
    assert _hil(capsys, "patches", demo_clip, "--float", "-o", tmp_path / "zoo.npy")[0] == 0
    np.testing.assert_array_equal(np.load(tmp_path / "zoo.npy"), audio_patches(demo_clip, ZOO))
    code, out, _ = _hil(capsys, "patches", demo_clip, "--float", "--frontend", "yamnet", "-o", tmp_path / "y.npy")
    assert code == 0 and "(front end yamnet)" in out
    yamnet = np.load(tmp_path / "y.npy")
    assert yamnet.shape == (3, 64, 96) and yamnet.dtype == np.float32  # a patch every 48 frames
    np.testing.assert_array_equal(yamnet, audio_patches(demo_clip, YAMNET))


def test_hil_patches_for_a_model_of_the_published_shape(capsys, tmp_path, demo_clip):
    from harness.compiler.graph import read_model

    published = Path(__file__).resolve().parents[2] / "shared/models/st-yamnet256-esc10/yamnet_256_64x96_int8.tflite"
    if not published.is_file():
        pytest.skip("the shared model is not beside the checkout")
    assert _hil(capsys, "patches", demo_clip, "--model", published, "-o", tmp_path / "p.npy")[0] == 0
    graph = read_model(published)
    np.testing.assert_array_equal(
        np.load(tmp_path / "p.npy"), quantize_patches(audio_patches(demo_clip, ZOO), graph.tensor(graph.inputs[0]))
    )


def test_hil_patches_bad_input_is_one_line_and_no_file(capsys, tmp_path, demo_clip):
    out = tmp_path / "p.npy"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVE")
    for argv, message in [
        ((bad, "-o", out), "bad.wav: cannot read it as audio"),
        ((demo_clip, "--float", "--model", demo_clip, "-o", out), "--float and --model exclude each other"),
        ((demo_clip, "--model", tmp_path / "none.tflite", "-o", out), "none.tflite: no such file"),
    ]:
        code, _, err = _hil(capsys, "patches", *argv)
        assert code == 2 and err.startswith("hil patches: error: ") and message in err
        assert len(err.strip().splitlines()) == 1
        assert not out.exists()
