"""Loaders put a firmware image on a target and hand back the serial URL of its link."""

from __future__ import annotations

from harness.build.firmware import FirmwareImage
from harness.device.board import Board
from harness.device.loaders.base import Loader, LoadError


def make_loader(board: Board, image: FirmwareImage) -> Loader:
    """The loader for the board's way of loading (board.load_method): the target's own, or another."""
    method = board.load_method
    if method == "exec":
        from harness.device.loaders.host import HostLoader

        return HostLoader()
    if method == "qemu":
        from harness.device.loaders.qemu import QemuLoader

        return QemuLoader()
    if method == "pyocd" and not board.is_flashed:
        from harness.device.loaders.qemu_pyocd import QemuPyocdLoader

        return QemuPyocdLoader()
    if method == "pyocd":
        from harness.device.loaders.pyocd_board import PyocdBoardLoader

        return PyocdBoardLoader(board, image)
    raise AssertionError(f"no loader for load method {method!r}")  # targets/schema.json lists the methods


def check_loadable(board: Board) -> None:
    """Raise LoadError now, before anything is built, when the board cannot be loaded (no probe, no
    port, no pack): a user without a board hears it in seconds."""
    if board.is_flashed:
        from harness.device.loaders.pyocd_board import board_ready

        board_ready(board)


__all__ = ["LoadError", "Loader", "check_loadable", "make_loader"]
