"""A dataset's clips through the front end: every clip's patches, stacked in clip order, with the
clip each patch came from and the clip's class index among the model's classes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.audio.datasets import Dataset
from harness.audio.frontend import FrontEnd, audio_patches
from harness.compiler.graph import Graph
from harness.errors import HilError
from harness.inputs import log_mel_inputs


@dataclass(frozen=True)
class ClipPatches:
    dataset: Dataset
    classes: tuple[str, ...]  # the model's outputs, in order
    labels: np.ndarray | None  # (clips,) class index of each clip; None when the labels are not the model's
    clip_of_patch: np.ndarray  # (patches,) which clip each patch came from
    float_patches: np.ndarray  # (patches, mels, frames) float32 log-mel
    inputs: np.ndarray  # (patches, *input shape) in the model's input type, as the device and the golden take them
    seconds: float  # wall-clock of the front end over all clips

    @property
    def clips(self) -> int:
        return len(self.dataset.clips)


def clip_patches(dataset: Dataset, classes: tuple[str, ...], fe: FrontEnd, graph: Graph, *, labelled: bool,
                 on_clip: Callable[[int, int], None] | None = None) -> ClipPatches:
    """Run the front end on every clip; `on_clip(done, total)` after each one."""
    # load_dataset kept only clips whose label is one of the classes it was given.
    labels = np.array([classes.index(clip.label) for clip in dataset.clips]) if labelled else None
    started = time.perf_counter()
    per_clip = []
    for i, clip in enumerate(dataset.clips):
        patches = audio_patches(clip.path, fe)
        if patches.shape[0] == 0:
            raise HilError(f"{clip.path}: too short for one patch of {fe.patch_frames} frames with the "
                           f"'{fe.name}' front end")
        per_clip.append(patches)
        if on_clip is not None:
            on_clip(i + 1, len(dataset.clips))
    float_patches = np.concatenate(per_clip)
    inputs = log_mel_inputs(float_patches, graph)
    seconds = time.perf_counter() - started
    clip_of_patch = np.repeat(np.arange(len(per_clip)), [p.shape[0] for p in per_clip])
    return ClipPatches(dataset, classes, labels, clip_of_patch, float_patches, inputs, seconds)


def relative_name(dataset: Dataset, path: Path) -> str:
    """A clip as the results name it: its path under the dataset's root."""
    try:
        return path.relative_to(dataset.root).as_posix()
    except ValueError:
        return str(path)
