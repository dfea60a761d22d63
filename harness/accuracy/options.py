"""What the accuracy job is asked to do: the dataset and how its clips are judged (`hil accuracy`,
`hil bench --dataset`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.accuracy.aggregation import DEFAULT_AGGREGATION
from harness.audio.frontend import DEFAULT_FRONTEND

DEMO_DATASET = "demo"  # --dataset demo: the project's demo dataset (harness/audio/demo.py)


def dataset_path(given: str) -> Path:
    """--dataset as a path: `demo` is the demo dataset, written (or checked) where the cache is."""
    if given == DEMO_DATASET:
        from harness.audio.demo import demo_dataset

        return demo_dataset()
    return Path(given)


@dataclass(frozen=True)
class AccuracyOptions:
    dataset: Path
    classes_file: Path | None = None  # the model's class names in output order; None: see model_classes
    fold: int | None = None
    float_model: Path | None = None
    aggregation: str = DEFAULT_AGGREGATION
    frontend: str = DEFAULT_FRONTEND
    skip_bad: bool = False  # skip unreadable clips (counted and named in the results) instead of stopping
    agreement_only: bool = False  # the labels are not the model's classes: device against golden only
