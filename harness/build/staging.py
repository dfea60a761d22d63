"""Build into a temporary folder beside the final one, then rename: a killed build leaves nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def publish_folder(build: Callable[[Path], None], final: Path) -> Path:
    if final.exists():
        return final
    staging = Path(tempfile.mkdtemp(prefix=final.name + ".", dir=final.parent))
    try:
        build(staging)
        os.replace(staging, final)
    except OSError:
        if not final.exists():  # another process may have published the same key meanwhile
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
