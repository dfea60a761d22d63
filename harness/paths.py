"""Where the project's files are, and where built artifacts are cached."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import HilError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = PROJECT_ROOT / "firmware_stub"
KERNELS_DIR = FIRMWARE_DIR / "kernels"
TARGETS_DIR = PROJECT_ROOT / "targets"


def cache_dir(kind: str) -> Path:
    """$HIL_CACHE_DIR, else $XDG_CACHE_HOME/hil, else ~/.cache/hil; one subfolder per kind."""
    root = os.environ.get("HIL_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "hil")
    path = Path(root) / kind
    where = "HIL_CACHE_DIR" if os.environ.get("HIL_CACHE_DIR") else "the cache folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"cannot use {where} {root} for the {kind} cache ({exc.strerror}: {exc.filename}); "
                       f"point HIL_CACHE_DIR at a folder you can write") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise HilError(f"the {kind} cache {path} is not writable; point HIL_CACHE_DIR at a folder you can write")
    return path
