"""One lock per board, so that two workers, or two runs, never share one.

A board is held with an OS file lock (fcntl.flock, exclusive) on its own file, `<lock folder>/<board
id>.lock`, for as long as its holder uses it. The kernel drops the lock when the holder's process
ends, however it ends, so a crashed run leaves no stale lock. The files stay: removing one that
another process waits on would let two processes each hold "the" lock of the same board. Each
holder writes who it is into the file, so that one who finds the board taken can say by whom.

The lock folder is $HIL_LOCK_DIR, else `locks/` in the cache (harness.paths.cache_dir). Several
people sharing a lab host set HIL_LOCK_DIR to one folder they can all write (e.g. /var/lock/hil,
group-writable); the cache is per user.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import HilError

LOCK_DIR_ENV = "HIL_LOCK_DIR"
POLL_S = 0.2  # how often a waiting process tries the boards again
BOARD_WAIT_S = 120.0  # how long a run waits for a free board, unless told


def lock_dir() -> Path:
    given = os.environ.get(LOCK_DIR_ENV)
    if not given:
        from harness.paths import cache_dir

        return cache_dir("locks")
    path = Path(given).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"${LOCK_DIR_ENV} {path}: cannot make the lock folder ({exc.strerror})") from None
    return path


def lock_path(board_id: str, directory: Path | None = None) -> Path:
    return (directory or lock_dir()) / f"{board_id}.lock"


class BoardLock:
    """A held board; release() (or leaving the `with` block, or the process ending) lets it go."""

    def __init__(self, board_id: str, path: Path, fd: int):
        self.board_id = board_id
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> BoardLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def try_lock(board_id: str, holder: str, directory: Path | None = None) -> BoardLock | None:
    """Take the board's lock if no one holds it (None if someone does); `holder` says who takes it."""
    path = lock_path(board_id, directory)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise HilError(f"cannot open the lock file {path} ({exc.strerror}); ${LOCK_DIR_ENV} must be a folder "
                       "everyone using the lab may write") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise HilError(f"cannot lock {path} ({exc.strerror})") from None
    with contextlib.suppress(PermissionError):  # let the others of the lab open it too, whatever our umask
        os.fchmod(fd, 0o666)
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{holder} (pid {os.getpid()} on {socket.gethostname()}, since {since})\n".encode(), 0)
    return BoardLock(board_id, path, fd)


def holder_of(board_id: str, directory: Path | None = None) -> str:
    """Who holds (or last held) the board, as its holder wrote it; 'someone' when it says nothing."""
    try:
        text = lock_path(board_id, directory).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "someone"


def lock_one_of(board_ids: Sequence[str], holder: str, wait: float,
                directory: Path | None = None) -> BoardLock | None:
    """The lock of the first free board of `board_ids`, trying again until `wait` seconds have
    passed; None if every one stayed taken."""
    deadline = time.monotonic() + wait
    while True:
        for board_id in board_ids:
            lock = try_lock(board_id, holder, directory)
            if lock is not None:
                return lock
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(POLL_S, left))
