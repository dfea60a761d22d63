"""Build into a temporary folder beside the final one, then rename: a killed build leaves nothing
final, and its staging folder is removed by the next build in the same cache folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

STAGING_MARK = ".staging-"  # <final name>.staging-<pid of the builder>.<random>


def publish_folder(build: Callable[[Path], None], final: Path) -> Path:
    if final.exists():
        return final
    remove_stale_staging(final.parent)
    staging = Path(tempfile.mkdtemp(prefix=f"{final.name}{STAGING_MARK}{os.getpid()}.", dir=final.parent))
    try:
        build(staging)
        os.replace(staging, final)
    except OSError:
        if not final.exists():  # another process may have published the same key meanwhile
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging folders in `folder` whose builder process is gone (killed mid-build)."""
    removed = []
    for path in folder.glob(f"*{STAGING_MARK}*"):
        builder = path.name.rsplit(STAGING_MARK, 1)[1].split(".", 1)[0]
        if builder.isdigit() and not _alive(int(builder)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
