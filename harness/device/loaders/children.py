"""Processes the harness starts (the emulator, the host firmware) never outlive it.

However the harness ends, its children end with it:
- a normal end, an error, Ctrl-C or SIGTERM: the loader's stop() runs (cli.main turns SIGTERM
  into the same unwinding as Ctrl-C) and ends the child with stop_child();
- SIGKILL, or a crash that skips every `finally`: the kernel sends the child SIGKILL when the
  harness dies (Linux's parent-death signal, set in the child before it executes the program).

Each child runs in a process group of its own, so a Ctrl-C typed at the terminal (SIGINT to the
whole foreground group) reaches the harness alone: it reports "interrupted" and stops the child
itself, rather than seeing its device vanish first and reporting that.

The parent-death signal fires when the *thread* that started the child ends: start children
from a thread that lives as long as they do (the harness starts them from its main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Looked up before any fork: the child only calls it.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent(parent: int):
    def in_child() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return in_child


def start_child(argv: list[str], **popen_options) -> subprocess.Popen:
    """Popen(argv) in its own process group, killed by the kernel if this process dies first."""
    return subprocess.Popen(argv, process_group=0, preexec_fn=_die_with_parent(os.getpid()), **popen_options)


def stop_child(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; reaped either way, so no zombie is left."""
    if process.poll() is not None:
        return
    process.terminate()
    process.send_signal(signal.SIGCONT)  # a stopped process acts on SIGTERM only once it runs
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()  # e.g. QEMU still blocked waiting for the first connection
        process.wait()
