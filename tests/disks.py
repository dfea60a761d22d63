"""Small real filesystems for tests of a full or read-only disk: a tmpfs with a size, mounted
as root or through passwordless sudo; the test is skipped, saying why, where mounting is impossible."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _as_root(*command: str) -> subprocess.CompletedProcess:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=30)


@contextmanager
def small_disk(mount_point: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` at mount_point (made if absent), unmounted afterwards."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = _as_root("mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "hil-test-disk", str(mount_point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to play a small disk (needs root or passwordless sudo): "
                    f"{mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        _as_root("umount", "-l", str(mount_point))


def make_read_only(mount_point: Path) -> None:
    result = _as_root("mount", "-o", "remount,ro", str(mount_point))
    assert result.returncode == 0, result.stderr


def fill(mount_point: Path) -> Path:
    """Write a file until the disk is full; the file, to delete to free the space again."""
    filler = mount_point / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler
