"""Labelled audio clips from a folder or a list, checked before any clip is run.

Three layouts are read:
- an ESC-50 folder: meta/esc50.csv (filename, fold, category, esc10) and audio/; when the
  model's classes are ESC-10 categories only, the rows whose esc10 column is True;
  `fold` keeps one of its five folds;
- a folder of class folders: every file in folder LABEL/ is a clip of class LABEL;
- a CSV file of path,label rows (paths relative to the CSV's folder; an optional
  "path,label" header).

A missing or unreadable file, a label that is not among the model's classes, or a class with
no clip stops the load with a message naming it. With `skip_bad` such clips (and empty
classes) are left out instead, and each one is listed in `Dataset.skipped`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HilError

ESC50_META = Path("meta") / "esc50.csv"
ESC50_COLUMNS = ("filename", "fold", "category", "esc10")


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str


@dataclass(frozen=True)
class Dataset:
    name: str
    root: Path
    classes: tuple[str, ...]  # the model's output order
    clips: tuple[Clip, ...]
    skipped: tuple[str, ...]  # "what: why" for each clip or class left out by skip_bad


def load_class_names(path: Path | str) -> tuple[str, ...]:
    """Class names in the model's output order: one a line, or a model-zoo config YAML's
    dataset.class_names."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise HilError(f"{path}: cannot read the class names ({error})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        names = _yaml_class_names(path, text)
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise HilError(f"{path}: no class names in it; write one name a line")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise HilError(f"{path}: class names repeated: {', '.join(duplicates)}")
    return tuple(names)


def _yaml_class_names(path: Path, text: str) -> list[str]:
    import yaml

    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise HilError(f"{path}: not valid YAML ({error})") from None
    names = (config.get("dataset") or {}).get("class_names") if isinstance(config, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise HilError(f"{path}: expected a list of names under dataset: class_names:, as model-zoo configs have")
    return [name.strip() for name in names]


def load_dataset(
    path: Path | str,
    *,
    classes: tuple[str, ...] | None = None,
    fold: int | None = None,
    skip_bad: bool = False,
) -> Dataset:
    """The labelled clips at `path` (an ESC-50 folder, a folder of class folders or a CSV of
    path,label), for a model whose outputs are `classes` (None: the labels found, sorted)."""
    path = Path(path)
    if not path.exists():
        raise HilError(f"{path}: no such dataset; give an ESC-50 folder, a folder of class folders or a CSV")
    if fold is not None and not (path / ESC50_META).is_file():
        raise HilError(f"{path}: --fold applies to an ESC-50 folder (meta/esc50.csv) only")
    if (path / ESC50_META).is_file():
        name, labelled = _esc50_clips(path, classes, fold)
    elif path.is_dir():
        name, labelled = path.name, _class_folder_clips(path)
    else:
        name, labelled = path.stem, _csv_clips(path)
    return _checked(name, path if path.is_dir() else path.parent, labelled, classes, skip_bad)


# Each layout gives (file, label, where it was listed) rows; a class folder with no file
# gives (None, label, folder), so that an empty class is seen too.
def _esc50_clips(root: Path, classes: tuple[str, ...] | None, fold: int | None) -> tuple[str, list]:
    meta = root / ESC50_META
    with meta.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    missing = [column for column in ESC50_COLUMNS if rows and column not in rows[0]]
    if not rows or missing:
        raise HilError(f"{meta}: not an ESC-50 table (needs the columns {', '.join(ESC50_COLUMNS)})")
    # A model of ESC-10 classes (none of the other forty) is evaluated on the ESC-10 rows.
    other_categories = {row["category"] for row in rows if row["esc10"] != "True"}
    name = "ESC-50"
    if classes is not None and not set(classes) & other_categories:
        rows, name = [row for row in rows if row["esc10"] == "True"], "ESC-10"
    if fold is not None:
        folds = sorted({row["fold"] for row in rows})
        if str(fold) not in folds:
            raise HilError(f"{meta}: no fold {fold}; the folds are {', '.join(folds)}")
        rows, name = [row for row in rows if row["fold"] == str(fold)], f"{name} fold {fold}"
    return name, [(root / "audio" / row["filename"], row["category"], str(meta)) for row in rows]


def _class_folder_clips(root: Path) -> list:
    folders = sorted(child for child in root.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not folders:
        raise HilError(f"{root}: no class folders in it; put each class's clips in a folder named after the class")
    clips = [
        (file, folder.name, str(folder))
        for folder in folders
        for file in sorted(folder.iterdir())
        if file.is_file() and not file.name.startswith(".")
    ]
    filled = {label for _, label, _ in clips}
    return clips + [(None, folder.name, str(folder)) for folder in folders if folder.name not in filled]


def _csv_clips(table: Path) -> list:
    try:
        with table.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise HilError(f"{table}: cannot read it as a CSV of path,label ({error})") from None
    labelled = []
    for number, row in enumerate(rows, start=1):
        if not row or (number == 1 and [cell.strip().lower() for cell in row] == ["path", "label"]):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise HilError(f"{table} line {number}: expected path,label, got {','.join(row)!r}")
        labelled.append((table.parent / row[0].strip(), row[1].strip(), f"{table} line {number}"))
    return labelled


def _unreadable(path: Path) -> str | None:
    """Why the file cannot be used as a clip, or None (checked from its header only)."""
    import soundfile

    if not path.is_file():
        return "no such file"
    try:
        info = soundfile.info(path)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as error:
        return f"cannot read it as audio ({error})"
    return "it holds no samples" if info.frames == 0 else None


def _checked(name: str, root: Path, labelled: list, classes: tuple[str, ...] | None, skip_bad: bool) -> Dataset:
    """The clips whose label is a class and whose file reads, the classes each with a clip."""
    found = sorted({label for _, label, _ in labelled})
    classes = tuple(classes) if classes is not None else tuple(found)
    clips, skipped = [], []

    def refuse(what: str, why: str, fix: str) -> None:
        if not skip_bad:
            raise HilError(f"{what}: {why}; {fix}, or pass --skip-bad to leave it out")
        skipped.append(f"{what}: {why}")

    for path, label, where in labelled:
        if path is None:
            continue
        if label not in classes:
            refuse(
                f"{path} (listed in {where})",
                f"label {label!r} is not one of the model's classes ({', '.join(classes)})",
                "fix the label or give the model's class names with --classes",
            )
        elif (problem := _unreadable(path)) is not None:
            refuse(f"{path} (listed in {where})", problem, "fix or remove the file")
        else:
            clips.append(Clip(path, label))
    for label in classes:
        if not any(clip.label == label for clip in clips):
            refuse(f"class {label!r}", f"no clip of it in {root}", "add clips of it")
    if not clips:
        raise HilError(f"{root}: no usable clip in the dataset")
    return Dataset(name, root, classes, tuple(clips), tuple(skipped))
