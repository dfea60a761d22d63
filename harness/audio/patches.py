"""Synthetic, real-looking log-mel patches and structured int8 inputs (numpy only).

The model has no audio front end: it takes one log-mel patch of 64 mel bins x 96 frames.
This module makes such patches from seeded synthetic audio, with YAMNet's framing (16 kHz
mono, 25 ms Hann window, 10 ms hop, FFT 512, magnitude, 64 HTK mel bins between 125 and
7500 Hz, natural log; harness/audio/frontend.py computes it), so tests need no dataset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from harness.audio import frontend
from harness.audio.frontend import FRONTENDS
from harness.audio.quantization import INT8_MAX, INT8_MIN, dequantize, quantize

# The synthetic patches' front end: YAMNet's framing, a lower log offset, and patches side by
# side with no overlap. The reference inputs' bytes, and so the baselines, depend on it.
LOG_OFFSET = 1e-6
SYNTHETIC_FRONTEND = dataclasses.replace(
    FRONTENDS["yamnet"], name="synthetic", min_seconds=None, log_offset=LOG_OFFSET, patch_hop=96
)
SAMPLE_RATE = SYNTHETIC_FRONTEND.sample_rate
MEL_BINS = SYNTHETIC_FRONTEND.mel_bins
PATCH_FRAMES = SYNTHETIC_FRONTEND.patch_frames

# Seconds of audio per synthetic clip: 5 s like an ESC-50 clip, 5 patches of 96 frames.
CLIP_SECONDS = 5.0

# The quiet background of a recording (room tone), so a "silent" frame lands near the
# bottom of the published input range (about -9.2) instead of at log(1e-6) = -13.8.
NOISE_FLOOR_RMS = 1e-4

# --- synthetic audio --------------------------------------------------------------------


def event_envelope(rng: np.random.Generator, length: int) -> np.ndarray:
    """An attack / decay envelope with a random shape, as struck or sung sounds have."""
    attack = max(1, int(length * rng.uniform(0.005, 0.2)))
    release = max(1, int(length * rng.uniform(0.05, 0.6)))
    envelope = np.ones(length)
    envelope[:attack] = np.linspace(0.0, 1.0, attack)
    envelope[length - release :] *= np.exp(-np.linspace(0.0, rng.uniform(2.0, 6.0), release))
    return envelope


def harmonic_tone(rng: np.random.Generator, length: int) -> np.ndarray:
    """A voiced tone: fundamental plus decaying harmonics, with a slow vibrato."""
    t = np.arange(length) / SAMPLE_RATE
    fundamental = rng.uniform(80.0, 1000.0)
    vibrato = rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.uniform(3.0, 7.0) * t)
    phase = 2 * np.pi * fundamental * np.cumsum(1.0 + vibrato) / SAMPLE_RATE
    rolloff = rng.uniform(0.3, 0.9)
    harmonics = range(1, int(rng.integers(1, 9)) + 1)
    tone = sum(
        rolloff ** (k - 1) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
        for k in harmonics
        if k * fundamental < SAMPLE_RATE / 2
    )
    return tone * event_envelope(rng, length)


def chirp(rng: np.random.Generator, length: int) -> np.ndarray:
    """An exponential frequency sweep, up or down, like a siren or a bird call."""
    start_hz, end_hz = rng.uniform(150.0, 7000.0, size=2)
    sweep = start_hz * (end_hz / start_hz) ** (np.arange(length) / length)
    return np.sin(2 * np.pi * np.cumsum(sweep) / SAMPLE_RATE) * event_envelope(rng, length)


def noise_burst(rng: np.random.Generator, length: int) -> np.ndarray:
    """Band-limited noise, like rain, wind, a breath or crackling."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.fft.rfftfreq(length, 1.0 / SAMPLE_RATE)
    low_hz = rng.uniform(0.0, 4000.0)
    high_hz = low_hz + rng.uniform(500.0, 8000.0 - low_hz)
    spectrum[(frequencies < low_hz) | (frequencies > high_hz)] = 0.0
    burst = np.fft.irfft(spectrum, n=length)
    return burst / (np.std(burst) + 1e-12) * event_envelope(rng, length)


def clicks(rng: np.random.Generator, length: int) -> np.ndarray:
    """A train of short decaying clicks, like a clock tick or footsteps."""
    period = int(SAMPLE_RATE * rng.uniform(0.05, 0.5))
    decay = np.exp(-np.arange(int(SAMPLE_RATE * 0.01)) / (SAMPLE_RATE * rng.uniform(0.0005, 0.003)))
    impulses = np.zeros(length)
    impulses[::period] = rng.choice([-1.0, 1.0], size=len(impulses[::period]))
    return np.convolve(impulses, decay)[:length]


_EVENT_MAKERS: tuple[Callable[[np.random.Generator, int], np.ndarray], ...] = (
    harmonic_tone,
    chirp,
    noise_burst,
    clicks,
)


def _random_span(rng: np.random.Generator, length: int, seconds: tuple[float, float]) -> slice:
    """A span of random duration in `seconds`, at a random place within `length` samples."""
    span = min(length, int(SAMPLE_RATE * rng.uniform(*seconds)))
    start = int(rng.integers(0, length - span + 1))
    return slice(start, start + span)


def _event_mix(rng: np.random.Generator, length: int) -> np.ndarray:
    """One to six random events at random times and levels, peak at most 1."""
    mix = np.zeros(length)
    if length == 0:
        return mix
    for _ in range(int(rng.integers(1, 7))):
        span = _random_span(rng, length, (0.1, 2.5))
        make_event = _EVENT_MAKERS[int(rng.integers(len(_EVENT_MAKERS)))]
        event = make_event(rng, span.stop - span.start)
        level = 10.0 ** (rng.uniform(-40.0, 0.0) / 20.0)  # -40 to 0 dB
        mix[span] += level * event / (np.max(np.abs(event), initial=0.0) + 1e-12)
    return mix / max(1.0, np.max(np.abs(mix), initial=0.0))


def synthetic_audio(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Return `seconds` of 16 kHz mono float32 audio in [-1, 1], a different mix per call.

    Events (tones with harmonics, chirps, noise bursts, click trains) at random times and
    levels over a quiet noise floor, with zero to two silence gaps where only the floor is
    left, as in an edited recording.
    """
    length = int(round(seconds * SAMPLE_RATE))
    floor = NOISE_FLOOR_RMS * rng.standard_normal(length)
    audio = rng.uniform(0.1, 0.9) * _event_mix(rng, length) + floor
    for _ in range(int(rng.integers(0, 3))):
        gap = _random_span(rng, length, (0.1, 1.0))
        audio[gap] = floor[gap]
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


# --- the synthetic front end -----------------------------------------------------------


def mel_filterbank() -> np.ndarray:
    """Return the (64, 257) triangular HTK mel weights, peak 1, no area normalisation."""
    return frontend.mel_filterbank(SYNTHETIC_FRONTEND)


def log_mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """Return the (64, frames) natural-log mel magnitude spectrogram, frames not centred."""
    return frontend.log_mel_spectrogram(audio, SYNTHETIC_FRONTEND)


def log_mel_patches(audio: np.ndarray) -> np.ndarray:
    """Return the non-overlapping (P, 64, 96) float32 log-mel patches of 16 kHz mono audio.

    A trailing part shorter than 96 frames is dropped.
    """
    return frontend.log_mel_patches(audio, SYNTHETIC_FRONTEND)


def synthetic_log_mel_patches(n: int, seed: int) -> np.ndarray:
    """Return `n` float32 (64, 96) log-mel patches cut from seeded synthetic 5 s clips."""
    rng = np.random.default_rng(seed)
    patches = [np.zeros((0, MEL_BINS, PATCH_FRAMES), dtype=np.float32)]
    made = 0
    while made < n:
        clip_patches = log_mel_patches(synthetic_audio(rng, CLIP_SECONDS))
        patches.append(clip_patches)
        made += len(clip_patches)
    return np.concatenate(patches)[:n]


# --- structured int8 inputs for engine tests --------------------------------------------


def _plane_coordinates(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column position in [0, 1] of every element, broadcast to `shape`.

    Rows run along the first axis longer than 1 and columns along the last one (the same
    axis for a 1-D shape); other axes (batch, channels) repeat the same plane.
    """
    long_axes = [axis for axis, size in enumerate(shape) if size > 1]
    if not long_axes:
        return np.zeros(shape), np.zeros(shape)
    grids = np.indices(shape, dtype=np.float64)
    row_axis, column_axis = long_axes[0], long_axes[-1]
    return grids[row_axis] / (shape[row_axis] - 1), grids[column_axis] / (shape[column_axis] - 1)


def _full_range(position: np.ndarray) -> np.ndarray:
    """Map positions in [0, 1] onto -128..127."""
    return np.round(INT8_MIN + (INT8_MAX - INT8_MIN) * position).astype(np.int8)


def _fixed_pattern(kind: str, shape: tuple[int, ...], zero_point: int | None) -> np.ndarray:
    """The input of a kind that is the same every time round."""
    rows, columns = _plane_coordinates(shape)
    match kind:
        case "all_min":
            return np.full(shape, INT8_MIN, dtype=np.int8)
        case "all_max":
            return np.full(shape, INT8_MAX, dtype=np.int8)
        case "all_zero":
            return np.zeros(shape, dtype=np.int8)
        case "all_zero_point":
            return np.full(shape, zero_point, dtype=np.int8)
        case "ramp_horizontal":
            return _full_range(columns)
        case "ramp_vertical":
            return _full_range(rows)
        case "ramp_diagonal":
            return _full_range((rows + columns) / 2.0)
        case "checkerboard":
            parity = np.indices(shape).sum(axis=0) % 2
            return np.where(parity == 0, INT8_MIN, INT8_MAX).astype(np.int8)
    raise ValueError(f"{kind!r} is not a fixed structured kind")


def structured_kinds(
    shape: tuple[int, ...], scale: float | None = None, zero_point: int | None = None
) -> list[str]:
    """The kinds `structured_int8_inputs` cycles through, in order, for these arguments.

    - "all_min": every element -128 (the most negative input).
    - "all_max": every element 127 (the most positive input).
    - "all_zero": every element 0.
    - "all_zero_point": every element the zero point, i.e. real value 0 (needs zero_point).
    - "ramp_horizontal": -128..127 along the columns, the same in every row.
    - "ramp_vertical": -128..127 along the rows, the same in every column.
    - "ramp_diagonal": -128 at the first corner to 127 at the opposite corner.
    - "checkerboard": -128 and 127 alternating between neighbours.
    - "uniform_random": independent uniform int8 values.
    - "log_mel": a quantized synthetic log-mel patch (needs scale and zero_point and a
      shape of 64 * 96 elements).
    """
    kinds = ["all_min", "all_max", "all_zero"]
    if zero_point is not None:
        kinds.append("all_zero_point")
    kinds += ["ramp_horizontal", "ramp_vertical", "ramp_diagonal", "checkerboard", "uniform_random"]
    holds_patch = int(np.prod(shape)) == MEL_BINS * PATCH_FRAMES
    if scale is not None and zero_point is not None and holds_patch:
        kinds.append("log_mel")
    return kinds


RANDOM_KINDS = ("uniform_random", "log_mel")


def structured_schedule(
    shape: tuple[int, ...], count: int, scale: float | None = None, zero_point: int | None = None
) -> list[str]:
    """The kind of each of `count` inputs: every kind once, then the random kinds in turn."""
    kinds = structured_kinds(shape, scale, zero_point)
    random_kinds = [kind for kind in kinds if kind in RANDOM_KINDS]
    extra = max(count - len(kinds), 0)
    return (kinds + [random_kinds[i % len(random_kinds)] for i in range(extra)])[:count]


def structured_int8_inputs(
    shape: tuple[int, ...],
    count: int,
    seed: int,
    scale: float | None = None,
    zero_point: int | None = None,
) -> np.ndarray:
    """Return a deterministic (count, *shape) int8 mix of edge-case and realistic inputs.

    The kinds come in the order of `structured_kinds`, each fixed kind once; after them the
    random kinds take turns, each time a new input, so every input is a different one.
    """
    shape = tuple(int(size) for size in shape)
    schedule = structured_schedule(shape, count, scale, zero_point)
    rng = np.random.default_rng(seed)
    log_mel = iter(
        quantize(patch, scale, zero_point).reshape(shape)
        for patch in synthetic_log_mel_patches(schedule.count("log_mel"), seed)
    )
    fixed = {
        kind: _fixed_pattern(kind, shape, zero_point)
        for kind in set(schedule)
        if kind not in RANDOM_KINDS
    }
    inputs = np.empty((count, *shape), dtype=np.int8)
    for i, kind in enumerate(schedule):
        if kind == "uniform_random":
            inputs[i] = rng.integers(INT8_MIN, INT8_MAX + 1, size=shape, dtype=np.int8)
        elif kind == "log_mel":
            inputs[i] = next(log_mel)
        else:
            inputs[i] = fixed[kind]
    return inputs


def structured_float_inputs(
    shape: tuple[int, ...], count: int, seed: int, scale: float, zero_point: int
) -> np.ndarray:
    """Return the float32 counterpart of `structured_int8_inputs`, for a model whose first operator
    quantizes its float input with (scale, zero_point): the same kinds in the same order.

    all_min and all_max lie 2 LSB beyond the int8 range, so the device's QUANTIZE saturates; the
    ramps and the random inputs take any value of that span, between the int8 steps, so the
    QUANTIZE's rounding decides them; the other constant kinds are their int8 values' real values;
    log_mel is the synthetic patch before quantization.
    """
    shape = tuple(int(size) for size in shape)
    schedule = structured_schedule(shape, count, scale, zero_point)
    rng = np.random.default_rng(seed)
    low, high = (INT8_MIN - 2 - zero_point) * scale, (INT8_MAX + 2 - zero_point) * scale
    log_mel = iter(synthetic_log_mel_patches(schedule.count("log_mel"), seed))
    rows, columns = _plane_coordinates(shape)
    spans = {"all_min": 0.0, "all_max": 1.0, "ramp_horizontal": columns, "ramp_vertical": rows,
             "ramp_diagonal": (rows + columns) / 2.0}
    inputs = np.empty((count, *shape), dtype=np.float32)
    for i, kind in enumerate(schedule):
        if kind in spans:
            inputs[i] = low + (high - low) * spans[kind]
        elif kind == "uniform_random":
            inputs[i] = rng.uniform(low, high, size=shape)
        elif kind == "log_mel":
            inputs[i] = next(log_mel).reshape(shape)
        else:
            inputs[i] = dequantize(_fixed_pattern(kind, shape, zero_point), scale, zero_point)
    return inputs
