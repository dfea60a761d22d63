"""Reading users' arrays and writing results without ever leaving a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import jsonschema
import numpy as np

from harness.errors import HilError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"  # a .npz is a zip archive of .npy files


def load_array(path: Path) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            start = f.read(len(NPY_MAGIC))
    except FileNotFoundError:
        raise HilError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HilError(f"{path}: is a directory, expected a .npy file") from None
    except OSError as exc:
        raise HilError(f"{path}: cannot read it ({exc.strerror})") from None
    if start.startswith(ZIP_MAGIC):
        raise HilError(f"{path}: is a .npz archive (or another zip file), not one .npy array; save the array "
                       f"with numpy.save, e.g. numpy.save('inputs.npy', numpy.load('{path.name}')['<name>'])")
    if start != NPY_MAGIC:
        raise HilError(f"{path}: not a .npy file (it does not start with numpy's .npy header); "
                       f"save inputs with numpy.save")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise HilError(f"{path}: not a readable .npy array ({exc}); save inputs with numpy.save") from None


def check_writable_file(path: Path) -> None:
    """Raise HilError now, before any work, if `path` cannot become a file: say so before computing it."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise HilError(f"{path}: is a folder; give the path of a file to write")
    if not directory.is_dir():
        raise HilError(f"{path}: the folder {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise HilError(f"{path}: cannot write in the folder {directory}")


def check_output_folder(path: Path, option: str) -> None:
    """Raise HilError now, before any work, if the folder `option` names cannot receive files."""
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        which = "" if existing == path else f"{existing} "
        raise HilError(f"{option} {path}: {which}is a file, expected a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HilError(f"{option} {path}: cannot write in {existing}")


def write_atomically(path: Path, write) -> None:
    """Call write(tmp_path), then rename into place; on any failure the target is untouched."""
    path = Path(path)
    check_writable_file(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, 0o644)  # mkstemp makes files private; results are for everyone to read
        os.close(fd)
        write(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:  # permission, a full or read-only disk
        raise HilError(f"{path}: cannot write it ({exc.strerror or exc}); nothing was written") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def save_array(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)

    write_atomically(path, write)


@lru_cache(maxsize=None)
def json_schema_validator(path: Path) -> jsonschema.protocols.Validator:
    """A validator for one of the project's JSON schemas (itself checked against its metaschema)."""
    schema = json.loads(Path(path).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
