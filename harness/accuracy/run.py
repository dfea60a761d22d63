"""The accuracy job's two ends: the options -> the clips' patches (before the device runs), and the
device's, golden's and float model's outputs -> the run.json accuracy block (docs/results.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.accuracy.aggregation import check_aggregation, clip_predictions
from harness.accuracy.clips import ClipPatches, clip_patches, relative_name
from harness.accuracy.float_model import check_float_model
from harness.accuracy.metrics import accuracy, agreement, confusion_matrix, per_class_recall
from harness.accuracy.options import AccuracyOptions
from harness.audio.datasets import load_class_names, load_dataset
from harness.audio.frontend import frontend
from harness.compiler import CompiledModel
from harness.errors import HilError


def _is_default_model(model_path: Path) -> bool:
    from harness.models.yamnet256 import default_model_path

    return model_path.resolve() == default_model_path().resolve()


def model_classes(options: AccuracyOptions, model_path: Path) -> tuple[str, ...] | None:
    """The model's class names: from --classes; for the project's default model, the demo dataset's
    classes it was trained on; otherwise None (the dataset's own labels, sorted)."""
    if options.classes_file is not None:
        return load_class_names(options.classes_file)
    from harness.models.yamnet256 import CLASS_NAMES

    return CLASS_NAMES if _is_default_model(model_path) else None


def with_model_defaults(options: AccuracyOptions, model_path: Path) -> AccuracyOptions:
    """The options with the float column's model filled in for the project's default model: its
    committed float twin (the same training), unless --float-model names one or no labels are used."""
    if options.float_model is not None or options.agreement_only or not _is_default_model(model_path):
        return options
    from harness.models.yamnet256 import default_float_model_path

    return dataclasses.replace(options, float_model=default_float_model_path())


def prepare_clips(options: AccuracyOptions, model_path: Path, model: CompiledModel,
                  on_clip: Callable[[int, int], None] | None = None) -> ClipPatches:
    """The dataset's clips as the model's inputs (int8, or float32 for a model that quantizes its
    input itself), checked against the model's outputs."""
    check_aggregation(options.aggregation)
    if options.float_model is not None:
        if options.agreement_only:
            raise HilError("--float-model and --agreement-only exclude each other: with no labels there is no "
                           "float accuracy to show")
        check_float_model(options.float_model)
    fe = frontend(options.frontend)
    classes = model_classes(options, model_path)
    outputs = _output_count(model)
    if classes is not None:
        given = f"--classes {options.classes_file}" if options.classes_file else "the default model's class list"
        _check_class_count(classes, outputs, given)
    if options.agreement_only:  # the labels are not checked; unnamed outputs are called by their index
        dataset = load_dataset(options.dataset, fold=options.fold, skip_bad=options.skip_bad)
        names = classes or tuple(str(i) for i in range(outputs))
    else:
        dataset = load_dataset(options.dataset, classes=classes, fold=options.fold, skip_bad=options.skip_bad)
        names = dataset.classes  # the classes given, or the labels found, sorted
        _check_class_count(names, outputs, f"the dataset {options.dataset}")
    return clip_patches(dataset, names, fe, model.graph, labelled=not options.agreement_only, on_clip=on_clip)


def _check_class_count(names: tuple[str, ...], outputs: int, source: str) -> None:
    if len(names) != outputs:
        raise HilError(f"the model has {outputs} outputs but {source} names {len(names)} classes; pass "
                       "--classes FILE with the model's class names in output order")


def _output_count(model: CompiledModel) -> int:
    graph = model.graph
    return int(np.prod(graph.tensor(graph.outputs[0]).shape))


@dataclass(frozen=True)
class ClipOutputs:
    """Each side's per-patch outputs for the clips, and how long the device took."""

    device: np.ndarray
    golden: np.ndarray
    float: np.ndarray | None
    device_seconds: float  # upload, inference and read back of every patch


def accuracy_block(clips: ClipPatches, outputs: ClipOutputs, options: AccuracyOptions) -> dict:
    """The accuracy block of run.json: fractions in [0, 1], the confusion of the device's predictions."""
    def predict(side: np.ndarray) -> np.ndarray:
        return clip_predictions(side, clips.clip_of_patch, clips.clips, options.aggregation)

    device, golden = predict(outputs.device), predict(outputs.golden)
    floating = None if outputs.float is None else predict(outputs.float)
    labels, names = clips.labels, list(clips.classes)
    matrix = None if labels is None else confusion_matrix(device, labels, len(names))
    dataset = clips.dataset
    return {
        "dataset": {"name": dataset.name, "fold": options.fold, "skipped": list(dataset.skipped)},
        "clips": clips.clips,
        "patches": int(clips.clip_of_patch.shape[0]),
        "classes": names,
        "labelled": labels is not None,
        "aggregation": options.aggregation,
        "frontend": frontend(options.frontend).to_json(),
        "device": None if labels is None else accuracy(device, labels),
        "golden": None if labels is None else accuracy(golden, labels),
        "float": None if labels is None or floating is None else accuracy(floating, labels),
        "float_model": None if options.float_model is None else options.float_model.name,
        "agreement": agreement(device, golden),
        "disagreements": [
            {"clip": relative_name(dataset, clip.path), "device": int(d), "golden": int(g)}
            for clip, d, g in zip(dataset.clips, device, golden) if d != g
        ],
        "per_class_recall": None if matrix is None else per_class_recall(matrix),
        "confusion": None if matrix is None else matrix.tolist(),
        "frontend_seconds": clips.seconds,
        "device_seconds": outputs.device_seconds,
        "seconds_per_clip": (clips.seconds + outputs.device_seconds) / clips.clips,
    }
