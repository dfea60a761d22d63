"""Keeping native libraries' chatter off the user's terminal without losing it on failure."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_shown_on_failure() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file; replay what it got only if the block fails.

    TensorFlow's and LiteRT's C++ code write there directly, past sys.stderr (banners, notices).
    The redirection is process-wide, so it is kept to the smallest block that needs it.
    """
    sys.stderr.flush()
    saved_descriptor = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved_descriptor, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved_descriptor, 2)
            os.close(saved_descriptor)
