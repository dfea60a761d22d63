"""The loader interface: one class per way of getting firmware running (exec, QEMU, pyOCD)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from harness.errors import HilError


class LoadError(HilError):
    """The image could not be started on the target (missing tool, dead board, crash at boot)."""


class Loader(ABC):
    """Starts one image and keeps it running until stop(); usable as a context manager."""

    @abstractmethod
    def start(self, image: Path) -> str:
        """Run the image; return a pyserial URL (a port path or socket://host:port) for its link."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the image and release everything start() took; safe to call twice."""

    def output(self) -> str:
        """What the target printed outside the link (console, emulator messages), for error reports."""
        return ""

    def __enter__(self) -> Loader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
