"""Tests of the synthetic audio, the YAMNet log-mel front end and the structured int8 inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.audio.patches import (
    LOG_OFFSET,
    MEL_BINS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    log_mel_patches,
    log_mel_spectrogram,
    mel_filterbank,
    structured_int8_inputs,
    structured_kinds,
    structured_schedule,
    synthetic_audio,
    synthetic_log_mel_patches,
)
from harness.audio.quantization import dequantize, quantize

# The published model's input quantization (shared/reference/yamnet256-facts.md).
REFERENCE_SCALE = 0.056411128491163254
REFERENCE_ZERO_POINT = 35
MODEL_INPUT_SHAPE = (1, MEL_BINS, PATCH_FRAMES, 1)


# --- synthetic audio --------------------------------------------------------------------


def test_synthetic_audio_is_float32_mono_within_full_scale():
    audio = synthetic_audio(np.random.default_rng(0), 2.5)
    assert audio.dtype == np.float32
    assert audio.shape == (int(2.5 * SAMPLE_RATE),)
    assert np.all(np.abs(audio) <= 1.0)
    assert np.max(np.abs(audio)) > 1e-3  # some event is audible over the noise floor


@pytest.mark.parametrize("seconds", [0.0, 0.001, 0.3])
def test_synthetic_audio_of_any_short_duration(seconds):
    audio = synthetic_audio(np.random.default_rng(0), seconds)
    assert audio.shape == (round(seconds * SAMPLE_RATE),)


def test_synthetic_audio_repeats_for_a_seed_and_changes_with_it():
    first = synthetic_audio(np.random.default_rng(5), 1.0)
    again = synthetic_audio(np.random.default_rng(5), 1.0)
    other = synthetic_audio(np.random.default_rng(6), 1.0)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# --- front end --------------------------------------------------------------------------


def test_mel_filterbank_is_64_htk_triangles_between_125_and_7500_hz():
    weights = mel_filterbank()
    fft_hz = np.fft.rfftfreq(512, 1.0 / SAMPLE_RATE)
    assert weights.shape == (MEL_BINS, 257)
    assert np.all(weights >= 0.0) and np.all(weights <= 1.0)
    assert np.all(weights.sum(axis=1) > 0.0)  # no empty filter
    assert not np.any(weights[:, (fft_hz <= 125.0) | (fft_hz >= 7500.0)])
    peaks_hz = fft_hz[np.argmax(weights, axis=1)]
    assert np.all(np.diff(peaks_hz) >= 0.0)


def test_log_mel_patches_cut_non_overlapping_96_frame_patches():
    five_seconds = synthetic_audio(np.random.default_rng(1), 5.0)
    frames = (len(five_seconds) - 400) // 160 + 1  # 25 ms window, 10 ms hop, not centred
    patches = log_mel_patches(five_seconds)
    assert frames == 498
    assert patches.shape == (frames // PATCH_FRAMES, MEL_BINS, PATCH_FRAMES)
    assert patches.dtype == np.float32
    spectrogram = log_mel_spectrogram(five_seconds)
    np.testing.assert_array_equal(patches[1], spectrogram[:, PATCH_FRAMES : 2 * PATCH_FRAMES])


def test_audio_shorter_than_a_patch_gives_no_patch():
    assert log_mel_patches(np.zeros(SAMPLE_RATE // 2, dtype=np.float32)).shape == (0, 64, 96)


def test_digital_silence_is_the_log_offset():
    patches = log_mel_patches(np.zeros(SAMPLE_RATE, dtype=np.float32))
    np.testing.assert_allclose(patches, np.log(LOG_OFFSET), rtol=1e-6)


def test_a_1_khz_tone_peaks_in_the_mel_bin_centred_nearest_1_khz():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    patch = log_mel_patches(0.5 * np.sin(2 * np.pi * 1000.0 * t))[0]
    weights = mel_filterbank()
    centre_hz = weights @ np.fft.rfftfreq(512, 1.0 / SAMPLE_RATE) / weights.sum(axis=1)
    assert np.argmax(patch.mean(axis=1)) == np.argmin(np.abs(centre_hz - 1000.0))
    # A 0.5 amplitude sine through a 400-sample Hann window peaks at 0.5 * 200 / 2 = 50 in
    # its FFT bin; the mel triangle adds a little of the neighbouring bins.
    assert np.log(50.0) < patch.max() < np.log(150.0)


def test_synthetic_patches_look_like_the_published_models_input():
    patches = synthetic_log_mel_patches(40, seed=0)
    assert patches.shape == (40, MEL_BINS, PATCH_FRAMES)
    assert patches.dtype == np.float32
    assert np.all(np.isfinite(patches))
    assert patches.min() >= np.log(LOG_OFFSET)
    # The published input range is about -9.2..5.2 (scale 0.0564, zero point 35).
    low, high = np.percentile(patches, [1, 99.9])
    assert -10.5 < low < -7.0
    assert 2.0 < high < 5.5
    assert patches.std(axis=(1, 2)).min() > 0.1  # no flat patch


def test_synthetic_patches_repeat_for_a_seed_and_change_with_it():
    first = synthetic_log_mel_patches(6, seed=3)
    np.testing.assert_array_equal(first, synthetic_log_mel_patches(6, seed=3))
    assert not np.array_equal(first, synthetic_log_mel_patches(6, seed=4))
    np.testing.assert_array_equal(first[:2], synthetic_log_mel_patches(2, seed=3))


# --- quantization -----------------------------------------------------------------------


def test_quantize_rounds_half_away_from_zero_and_saturates():
    halves = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49, -0.49])
    np.testing.assert_array_equal(quantize(halves, 1.0, 0), [1, -1, 2, -2, 3, -3, 0, 0])
    np.testing.assert_array_equal(quantize([1e6, -1e6], 0.1, 10), [127, -128])
    np.testing.assert_array_equal(quantize([0.0, 0.25], 0.25, 35), [35, 36])
    assert quantize([0.0], 1.0, 0).dtype == np.int8


@given(
    value=st.floats(-1.0, 1.0),
    scale=st.floats(1e-3, 1.0),
    zero_point=st.integers(-128, 127),
)
def test_quantize_then_dequantize_is_within_half_a_step(value, scale, zero_point):
    low, high = (-128 - zero_point) * scale, (127 - zero_point) * scale
    real = np.clip(value * max(abs(low), abs(high)), low, high)
    back = dequantize(quantize(np.float32(real), scale, zero_point), scale, zero_point)
    # Half a step, plus float32 rounding of values up to about 128 steps from zero.
    assert abs(float(back) - float(np.float32(real))) <= scale / 2 + 1e-6 * max(1.0, abs(real))


# --- structured inputs ------------------------------------------------------------------


def _inputs_by_kind(shape, count, seed=0, scale=None, zero_point=None):
    """The first input of each kind."""
    kinds = structured_kinds(shape, scale, zero_point)
    inputs = structured_int8_inputs(shape, count, seed, scale, zero_point)
    return {kind: inputs[i] for i, kind in enumerate(kinds[:count])}


def test_structured_kinds_depend_on_the_quantization_given():
    assert structured_kinds(MODEL_INPUT_SHAPE, REFERENCE_SCALE, REFERENCE_ZERO_POINT) == [
        "all_min", "all_max", "all_zero", "all_zero_point", "ramp_horizontal",
        "ramp_vertical", "ramp_diagonal", "checkerboard", "uniform_random", "log_mel",
    ]
    without = structured_kinds(MODEL_INPUT_SHAPE)
    assert "all_zero_point" not in without and "log_mel" not in without
    assert "log_mel" not in structured_kinds((8, 8), REFERENCE_SCALE, REFERENCE_ZERO_POINT)


def test_structured_inputs_have_the_documented_contents():
    shape = MODEL_INPUT_SHAPE
    inputs = structured_int8_inputs(shape, 10, 0, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    assert inputs.shape == (10, *shape) and inputs.dtype == np.int8
    by_kind = _inputs_by_kind(shape, 10, 0, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    assert np.all(by_kind["all_min"] == -128)
    assert np.all(by_kind["all_max"] == 127)
    assert np.all(by_kind["all_zero"] == 0)
    assert np.all(by_kind["all_zero_point"] == REFERENCE_ZERO_POINT)
    plane = {kind: value[0, :, :, 0].astype(int) for kind, value in by_kind.items()}
    assert np.all(plane["ramp_horizontal"] == plane["ramp_horizontal"][0])  # rows equal
    assert plane["ramp_horizontal"][0, 0] == -128 and plane["ramp_horizontal"][0, -1] == 127
    assert np.all(np.diff(plane["ramp_horizontal"][0]) > 0)
    assert np.all(plane["ramp_vertical"] == plane["ramp_vertical"][:, :1])  # columns equal
    assert plane["ramp_vertical"][0, 0] == -128 and plane["ramp_vertical"][-1, 0] == 127
    assert plane["ramp_diagonal"][0, 0] == -128 and plane["ramp_diagonal"][-1, -1] == 127
    assert np.all(np.diff(plane["ramp_diagonal"], axis=0) >= 0)
    assert np.all(np.diff(plane["ramp_diagonal"], axis=1) >= 0)
    board = plane["checkerboard"]
    assert set(np.unique(board)) == {-128, 127}
    assert np.all(board[:, 1:] != board[:, :-1]) and np.all(board[1:] != board[:-1])
    assert len(np.unique(plane["uniform_random"])) > 200
    first_patch = synthetic_log_mel_patches(1, 0)[0]
    expected_patch = quantize(first_patch, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    np.testing.assert_array_equal(plane["log_mel"], expected_patch)


def test_structured_inputs_are_each_kind_once_then_fresh_random_ones():
    shape = MODEL_INPUT_SHAPE
    kinds = structured_kinds(shape, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    count = len(kinds) + 6
    assert structured_schedule(shape, count, REFERENCE_SCALE, REFERENCE_ZERO_POINT) == kinds + [
        "uniform_random", "log_mel"] * 3
    inputs = structured_int8_inputs(shape, count, 0, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    assert len({x.tobytes() for x in inputs}) == count
    assert len(set(structured_schedule((8, 8), 20))) == len(structured_kinds((8, 8)))


def test_structured_inputs_repeat_for_a_seed_and_change_with_it():
    args = (MODEL_INPUT_SHAPE, 12)
    quantization = (REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    first = structured_int8_inputs(*args, 1, *quantization)
    np.testing.assert_array_equal(first, structured_int8_inputs(*args, 1, *quantization))
    other = structured_int8_inputs(*args, 2, *quantization)
    random_index = structured_kinds(MODEL_INPUT_SHAPE, *quantization).index("uniform_random")
    assert not np.array_equal(first[random_index], other[random_index])
    np.testing.assert_array_equal(first[0], other[0])


@pytest.mark.parametrize("shape", [(16,), (4, 5), (2, 3, 7), (1, 64, 96, 1), (64, 96)])
def test_structured_inputs_fit_any_shape(shape):
    inputs = structured_int8_inputs(shape, 12, 0, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    assert inputs.shape == (12, *shape) and inputs.dtype == np.int8
    by_kind = _inputs_by_kind(shape, 12, 0, REFERENCE_SCALE, REFERENCE_ZERO_POINT)
    for kind in ("ramp_horizontal", "ramp_vertical", "ramp_diagonal", "checkerboard"):
        assert by_kind[kind].min() == -128 and by_kind[kind].max() == 127, kind
