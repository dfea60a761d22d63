"""Reading users' arrays and writing results without ever leaving a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

import jsonschema
import numpy as np

from harness.errors import HilError


def load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise HilError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise HilError(f"{path}: is a directory, expected a .npy file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise HilError(f"{path}: not a readable .npy array ({exc}); save inputs with numpy.save") from None


def write_atomically(path: Path, write) -> None:
    """Call write(tmp_path), then rename into place; on any failure the target is untouched."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise HilError(f"{path}: the folder {directory} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        os.fchmod(fd, 0o644)  # mkstemp makes files private; results are for everyone to read
        os.close(fd)
        write(Path(tmp))
        os.replace(tmp, path)
    except PermissionError:
        raise HilError(f"{path}: cannot write there (permission denied)") from None
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
