"""Loaders put a firmware image on a target and hand back the serial URL of its link."""

from __future__ import annotations

from harness.device.board import Board
from harness.device.loaders.base import Loader, LoadError
from harness.errors import HilError


def _host(board: Board) -> Loader:
    from harness.device.loaders.host import HostLoader

    return HostLoader()


def _qemu(board: Board) -> Loader:
    from harness.device.loaders.qemu import QemuLoader

    return QemuLoader()


LOADERS = {"exec": _host, "qemu": _qemu}


def make_loader(board: Board) -> Loader:
    """The loader for the board's target."""
    target = board.target
    try:
        factory = LOADERS[target.load_method]
    except KeyError:
        raise HilError(
            f"target {target.id} is loaded with {target.load_method}, which this version cannot do yet"
        ) from None
    return factory(board)


__all__ = ["LoadError", "Loader", "make_loader"]
