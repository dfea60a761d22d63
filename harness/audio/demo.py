"""A small demo dataset of event-like sounds, made by the project's own code, no download.

Four classes, each one kind of synthetic event (made by the generators of
harness/audio/patches.py) repeated over a quiet noise floor:
- "hiss": band-limited noise bursts (rain, wind, breath),
- "siren": exponential frequency sweeps,
- "ticking": trains of short clicks (a clock, footsteps),
- "whistle": voiced tones with harmonics and vibrato.

`demo_dataset()` writes the evaluation clips as a folder of class folders of 16 kHz mono
16-bit WAV files: the same bytes on every machine (tests check their SHA-256). The default
model is trained on other clips of the same classes (`demo_waveform(..., split="train")`),
so the demo clips are held out from its training.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.audio.patches import SAMPLE_RATE, chirp, clicks, harmonic_tone, noise_burst
from harness.errors import HilError
from harness.io import write_atomically
from harness.paths import cache_dir

# Sorted, so a dataset read without a class list finds the same order as the model's head.
DEMO_CLASSES = ("hiss", "siren", "ticking", "whistle")
_CLASS_EVENTS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "hiss": noise_burst,
    "siren": chirp,
    "ticking": clicks,
    "whistle": harmonic_tone,
}

CLIPS_PER_CLASS = 5
CLIP_SECONDS = 2.0  # two patches of the zoo front end each
EVENT_SECONDS = (0.3, 1.2)
# The room tone under the events, about 50 dB below them: the silence split keeps the clip whole.
NOISE_FLOOR_RMS = 3e-3
# Different seeds for the files and for the model's training clips: the demo clips are held out.
SPLIT_SEEDS = {"demo": 11, "train": 12}


def demo_waveform(class_name: str, index: int, split: str = "demo") -> np.ndarray:
    """Clip `index` of a class: its events back to back at random levels over the floor,
    float32 in [-1, 1] at 16 kHz, the same for the same arguments."""
    rng = np.random.default_rng([SPLIT_SEEDS[split], DEMO_CLASSES.index(class_name), index])
    length = int(CLIP_SECONDS * SAMPLE_RATE)
    clip = np.zeros(length)
    start = int(rng.integers(0, SAMPLE_RATE // 4))
    while start < length:
        span = min(length - start, int(SAMPLE_RATE * rng.uniform(*EVENT_SECONDS)))
        event = _CLASS_EVENTS[class_name](rng, span)
        clip[start : start + span] += rng.uniform(0.3, 1.0) * event / (np.max(np.abs(event)) + 1e-12)
        start += span + int(rng.integers(0, SAMPLE_RATE // 5))
    clip = rng.uniform(0.3, 0.9) * clip / max(1.0, np.max(np.abs(clip)))
    return np.clip(clip + NOISE_FLOOR_RMS * rng.standard_normal(length), -1.0, 1.0).astype(np.float32)


def _wav_bytes(waveform: np.ndarray) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, waveform, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def demo_files() -> dict[str, bytes]:
    """The dataset's files: relative path "class/class-NN.wav" -> WAV bytes."""
    return {
        f"{name}/{name}-{index:02d}.wav": _wav_bytes(demo_waveform(name, index))
        for name in DEMO_CLASSES
        for index in range(CLIPS_PER_CLASS)
    }


def demo_dataset(root: Path | None = None) -> Path:
    """Write the demo dataset under `root` (default: the cache's "demo-dataset" folder), or
    keep the files already there that have the right bytes; return the dataset's folder."""
    try:
        root = Path(root) if root is not None else cache_dir("demo-dataset")
        for relative, content in demo_files().items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_bytes() != content:
                write_atomically(path, lambda tmp, content=content: tmp.write_bytes(content))
    except OSError as error:
        raise HilError(f"cannot write the demo dataset: {error}; set HIL_CACHE_DIR to a writable folder") from None
    return root
