"""Loaders put a firmware image on a target and hand back the serial URL of its link."""

from __future__ import annotations

from harness.device.loaders.base import Loader, LoadError
from harness.errors import HilError
from harness.targets import Target


def _host(target: Target, port: str | None) -> Loader:
    from harness.device.loaders.host import HostLoader

    return HostLoader()


def _qemu(target: Target, port: str | None) -> Loader:
    from harness.device.loaders.qemu import QemuLoader

    return QemuLoader()


LOADERS = {"exec": _host, "qemu": _qemu}


def make_loader(target: Target, port: str | None = None) -> Loader:
    try:
        factory = LOADERS[target.load_method]
    except KeyError:
        raise HilError(
            f"target {target.id} is loaded with {target.load_method}, which this version cannot do yet"
        ) from None
    return factory(target, port)


__all__ = ["LoadError", "Loader", "make_loader"]
