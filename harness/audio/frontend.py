"""The audio front end: an audio file -> log-mel patches -> the model's int8 input.

The model has no front end of its own; it sees what this module makes of a recording, so
the parameters must be the ones the model was trained with. They live in one place, the
`FrontEnd` presets below, and every result records the preset it used (`FrontEnd.to_json`).

- "zoo": the pipeline the shared ESC-10 Yamnet-256 was trained with (the STM32 model zoo's
  preprocessing, shared/reference/yamnet256-facts.md "Front end"): 16 kHz mono, silence
  split and joined, clips shorter than 1 s repeated to 1 s, at most 10 s, magnitude mel
  spectrogram with librosa's framing (frames of n_fft samples, the Hann window centred in
  them, not centred on the signal), 64 HTK bins 125-7500 Hz, log(mel + 1e-4), patches of 96
  frames every 72.
- "yamnet": YAMNet's original front end (tf.signal.stft framing: frames of the window's
  400 samples zero-padded to the FFT), log(mel + 0.001), patches every 48 frames, clips
  zero-padded to one patch.

Files are read with soundfile and resampled with soxr's high-quality mode, as librosa.load
does by default; the spectrogram is numpy, checked against librosa in tests/test_frontend.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.audio.quantization import quantize
from harness.compiler.graph import Tensor
from harness.errors import HilError

LENGTHEN_MODES = ("repeat", "zero_pad")

# The smallest value librosa's silence detection lets a power take before log10.
_SPLIT_POWER_FLOOR = 1e-10


@dataclass(frozen=True)
class FrontEnd:
    """Every parameter between an audio file and the model's input patches."""

    name: str
    sample_rate: int  # Hz; files at other rates are resampled, several channels averaged
    max_seconds: float | None  # longer clips are cut to their first max_seconds
    min_seconds: float | None  # shorter clips are lengthened to exactly min_seconds
    lengthen: str  # how: "repeat" the clip (tiled), or "zero_pad" it
    split_top_db: float | None  # silence: frames this far below the loudest are dropped; None: no split
    split_frame: int | None  # samples per frame of the silence detection
    split_hop: int | None
    n_fft: int
    win_length: int  # Hann window (periodic), centred in each frame
    frame_length: int  # samples per frame: n_fft as librosa frames, win_length as tf.signal.stft
    hop_length: int
    mel_bins: int
    fmin: float
    fmax: float
    htk: bool  # HTK mel scale, triangles of peak 1 (no area normalisation)
    log_offset: float  # features are log(mel + log_offset), natural log
    patch_frames: int
    patch_hop: int

    def __post_init__(self) -> None:
        if not self.htk:
            raise HilError(f"front end {self.name!r}: only the HTK mel scale is implemented (htk=True)")
        if self.lengthen not in LENGTHEN_MODES:
            raise HilError(f"front end {self.name!r}: lengthen must be one of {', '.join(LENGTHEN_MODES)}")
        if not self.win_length <= self.frame_length <= self.n_fft:
            raise HilError(f"front end {self.name!r}: need win_length <= frame_length <= n_fft")
        split = (self.split_top_db, self.split_frame, self.split_hop)
        if any(value is None for value in split) and any(value is not None for value in split):
            raise HilError(f"front end {self.name!r}: set all of split_top_db/frame/hop, or none")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


FRONTENDS: dict[str, FrontEnd] = {
    "zoo": FrontEnd(
        name="zoo",
        sample_rate=16_000,
        max_seconds=10.0,
        min_seconds=1.0,
        lengthen="repeat",
        split_top_db=60.0,
        split_frame=3200,
        split_hop=3200,
        n_fft=512,
        win_length=400,
        frame_length=512,
        hop_length=160,
        mel_bins=64,
        fmin=125.0,
        fmax=7500.0,
        htk=True,
        log_offset=1e-4,
        patch_frames=96,
        patch_hop=72,
    ),
    "yamnet": FrontEnd(
        name="yamnet",
        sample_rate=16_000,
        max_seconds=None,
        # One patch: 0.96 s of hops plus the window less a hop, as YAMNet pads its input.
        min_seconds=0.975,
        lengthen="zero_pad",
        split_top_db=None,
        split_frame=None,
        split_hop=None,
        n_fft=512,
        win_length=400,
        frame_length=400,
        hop_length=160,
        mel_bins=64,
        fmin=125.0,
        fmax=7500.0,
        htk=True,
        log_offset=1e-3,
        patch_frames=96,
        patch_hop=48,
    ),
}
DEFAULT_FRONTEND = "zoo"


def frontend(name: str) -> FrontEnd:
    """The named preset; a HilError naming the choices for an unknown name."""
    try:
        return FRONTENDS[name]
    except KeyError:
        raise HilError(f"unknown front end {name!r}; choose one of: {', '.join(FRONTENDS)}") from None


# --- reading files ----------------------------------------------------------------------


def load_audio(path: Path | str, fe: FrontEnd) -> np.ndarray:
    """The file as float32 mono at fe.sample_rate: channels averaged, then resampled with
    soxr's high-quality mode to ceil(samples * ratio) samples (librosa.load's defaults)."""
    import soundfile
    import soxr

    path = Path(path)
    if not path.is_file():
        raise HilError(f"{path}: no such file; give the path of an audio file")
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as error:
        raise HilError(f"{path}: cannot read it as audio ({error}); give a WAV, FLAC, OGG or MP3 file") from None
    if samples.shape[0] == 0:
        raise HilError(f"{path}: the file holds no samples; remove it or record it again")
    mono = samples.mean(axis=1, dtype=np.float32)
    if rate == fe.sample_rate:
        return mono
    length = int(np.ceil(len(mono) * fe.sample_rate / rate))
    resampled = soxr.resample(mono, rate, fe.sample_rate, quality="HQ")[:length]
    return np.pad(resampled, (0, length - len(resampled))).astype(np.float32)


# --- the clip before the spectrogram ----------------------------------------------------


def non_silent_intervals(waveform: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """(K, 2) sample [start, stop) intervals louder than split_top_db below the loudest frame,
    as librosa.effects.split finds them: RMS over frames centred on multiples of the hop
    (the signal zero-padded by half a frame each side)."""
    half = fe.split_frame // 2
    padded = np.pad(np.asarray(waveform, dtype=np.float64), (half, half))
    frames = np.lib.stride_tricks.sliding_window_view(padded, fe.split_frame)[:: fe.split_hop]
    power = np.mean(frames**2, axis=1)
    decibels = 10.0 * np.log10(np.maximum(_SPLIT_POWER_FLOOR, power))
    loud = decibels - 10.0 * np.log10(max(_SPLIT_POWER_FLOOR, power.max())) > -fe.split_top_db
    # Frame indices where loudness switches on (start) or off (stop), in pairs.
    edges = np.flatnonzero(np.diff(loud.astype(np.int8))) + 1
    edges = np.concatenate([[0] if loud[0] else [], edges, [len(loud)] if loud[-1] else []])
    return np.minimum(edges.astype(np.int64) * fe.split_hop, len(waveform)).reshape(-1, 2)


def prepare_clip(waveform: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """The clip as the spectrogram sees it: silence split and joined, lengthened, capped."""
    clip = np.asarray(waveform, dtype=np.float32)
    if fe.split_top_db is not None and len(clip):
        clip = np.concatenate([clip[start:stop] for start, stop in non_silent_intervals(clip, fe)])
    if fe.min_seconds is not None and len(clip):
        needed = int(round(fe.min_seconds * fe.sample_rate))
        if len(clip) < needed:
            if fe.lengthen == "repeat":
                clip = np.tile(clip, -(-needed // len(clip)))[:needed]
            else:
                clip = np.pad(clip, (0, needed - len(clip)))
    if fe.max_seconds is not None:
        clip = clip[: int(round(fe.max_seconds * fe.sample_rate))]
    return clip


# --- the log-mel spectrogram ------------------------------------------------------------


def _hz_to_htk_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _htk_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(fe: FrontEnd) -> np.ndarray:
    """The (mel_bins, n_fft // 2 + 1) triangular HTK mel weights, peak 1, no area normalisation."""
    edges_hz = _htk_mel_to_hz(
        np.linspace(_hz_to_htk_mel(fe.fmin), _hz_to_htk_mel(fe.fmax), fe.mel_bins + 2)
    )
    fft_hz = np.fft.rfftfreq(fe.n_fft, 1.0 / fe.sample_rate)
    lower, center, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (fft_hz - lower) / (center - lower)
    falling = (upper - fft_hz) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling))


def _periodic_hann(length: int) -> np.ndarray:
    # Periodic, as spectral analysis windows are (scipy's fftbins=True, tf.signal.hann_window).
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def log_mel_spectrogram(waveform: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """Return the (mel_bins, frames) natural-log mel magnitude spectrogram; frames start at
    multiples of the hop (not centred), and a trailing part shorter than a frame is dropped."""
    audio = np.asarray(waveform, dtype=np.float64)
    if audio.ndim != 1:
        raise ValueError(f"audio must be 1-D mono samples, got shape {audio.shape}")
    if len(audio) < fe.frame_length:
        return np.zeros((fe.mel_bins, 0), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(audio, fe.frame_length)[:: fe.hop_length]
    offset = (fe.frame_length - fe.win_length) // 2
    windowed = frames[:, offset : offset + fe.win_length] * _periodic_hann(fe.win_length)
    magnitude = np.abs(np.fft.rfft(windowed, n=fe.n_fft))
    mel = magnitude @ mel_filterbank(fe).T
    return np.log(mel + fe.log_offset).T.astype(np.float32)


def spectrogram_patches(spectrogram: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """(N, mel_bins, patch_frames) patches every patch_hop frames; a partial last one is dropped."""
    starts = range(0, spectrogram.shape[1] - fe.patch_frames + 1, fe.patch_hop)
    patches = np.zeros((len(starts), fe.mel_bins, fe.patch_frames), dtype=np.float32)
    for patch, start in zip(patches, starts):
        patch[:] = spectrogram[:, start : start + fe.patch_frames]
    return patches


def log_mel_patches(waveform: np.ndarray, fe: FrontEnd) -> np.ndarray:
    """The float32 (N, mel_bins, patch_frames) patches of a mono clip at fe.sample_rate."""
    return spectrogram_patches(log_mel_spectrogram(prepare_clip(waveform, fe), fe), fe)


def audio_patches(path: Path | str, fe: FrontEnd) -> np.ndarray:
    """The float32 log-mel patches of an audio file."""
    return log_mel_patches(load_audio(path, fe), fe)


# --- the model's input ------------------------------------------------------------------


def check_holds_patch(patches: np.ndarray, tensor: Tensor) -> None:
    """The model's input tensor holds exactly one of these patches."""
    if tensor.size != int(np.prod(patches.shape[1:])):
        raise HilError(
            f"the model's input {tensor.describe()} does not hold one {patches.shape[1]}x{patches.shape[2]} "
            f"log-mel patch; pick a front end whose patches match it"
        )


def quantize_patches(patches: np.ndarray, tensor: Tensor) -> np.ndarray:
    """int8 (N, *tensor.shape) patches on the input tensor's scale and zero point, rounded
    as TFLite's QUANTIZE rounds; the tensor must hold exactly one patch."""
    if tensor.dtype != "int8" or tensor.quant is None:
        raise HilError(f"the model's input is {tensor.describe()}, not a quantized int8 tensor")
    check_holds_patch(patches, tensor)
    scale, zero_point = float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    return quantize(patches, scale, zero_point).reshape(len(patches), *tensor.shape)
