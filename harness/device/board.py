"""The board record: which target, how it is loaded, where its link is and how long to wait for it.

Built once from the command line or the pytest options and handed to the loader and the link,
so every option reaches what it names, and an option that makes no sense for the target is
refused here rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness import defaults
from harness.device.link.protocol import RunTimeout
from harness.errors import HilError
from harness.targets import Target

# Besides its own way, a target may be loaded another way: an emulator through pyOCD (its
# gdbstub probe), which exercises the board's flash path without a board.
OTHER_LOADERS = {"qemu": ("pyocd",)}


@dataclass(frozen=True)
class Board:
    target: Target
    port: str | None = None  # pyserial URL of a board's serial link; None for a socket link
    baud: int | None = None  # None: the target's
    link_timeout: float = defaults.LINK_TIMEOUT_S  # seconds per try of a request that runs nothing
    inference_timeout: float | None = None  # seconds one inference may take; None: from the model's work
    loader: str | None = None  # how to load it; None: the target's own way (targets/*.toml, load.method)
    probe: str | None = None  # a board's debug probe, by pyOCD unique ID; None: the only one connected
    pack: Path | None = None  # the CMSIS-Pack file defining the board's chip for pyOCD
    reflash: bool = False  # program the board even when it already runs the image

    def __post_init__(self) -> None:
        target = self.target
        if self.loader is not None and self.loader != target.load_method \
                and self.loader not in OTHER_LOADERS.get(target.load_method, ()):
            ways = ", ".join((target.load_method, *OTHER_LOADERS.get(target.load_method, ())))
            raise HilError(f"--loader {self.loader} does not apply to target {target.id}; it is loaded with: {ways}")
        for option, value in (("--baud", self.baud), ("--link-timeout", self.link_timeout),
                              ("--inference-timeout", self.inference_timeout)):
            if value is not None and not value > 0:
                raise HilError(f"{option} must be positive (got {value})")
        if self.on_shelf:  # an emulator someone else runs: reached, like a board, by its probe and its port
            if self.pack is not None:
                raise HilError(f"--pack does not apply to target {target.id}: pyOCD knows the emulated chip "
                               f"({target.pyocd_target}) without one; drop it")
            return
        if target.transport == "socket":
            # The harness starts these targets itself and opens their loopback socket.
            for option, value in (("--port", self.port), ("--baud", self.baud)):
                if value is not None:
                    raise HilError(
                        f"{option} does not apply to target {target.id}: its link is a loopback socket the harness "
                        f"opens itself; drop {option}"
                    )
        if target.load_method != "pyocd":
            # Only a board has a probe of its own, a pack for its chip, and flash that keeps an image.
            for option, value in (("--probe", self.probe), ("--pack", self.pack), ("--reflash", self.reflash or None)):
                if value is not None:
                    raise HilError(f"{option} does not apply to target {target.id}: it is not a board flashed "
                                   "through a debug probe; drop it")

    @property
    def on_shelf(self) -> bool:
        """An emulated target that someone else started (a lab host), named by its probe and port: the
        harness flashes it through pyOCD and talks to its port, as to a board, instead of starting it."""
        return self.target.load_method == "qemu" and self.probe is not None and self.port is not None

    @property
    def is_flashed(self) -> bool:
        """Loaded through a debug probe into memory that keeps the image: a board, or an emulator on a shelf."""
        return self.target.load_method == "pyocd" or self.on_shelf

    @property
    def load_method(self) -> str:
        return "pyocd" if self.on_shelf else self.loader or self.target.load_method

    @property
    def link_baud(self) -> int | None:
        """The baud rate of a serial link; None for a socket, where there is none."""
        if self.target.transport == "socket" and not self.on_shelf:
            return None
        return self.baud or self.target.baud

    def run_timeout(self, macs: int) -> RunTimeout:
        """How long the device may stay silent on an inference of a model of `macs` MACs: as the user
        said, else twice what the target is expected to need at its slowest, plus a slack."""
        if self.inference_timeout is not None:
            return RunTimeout(self.inference_timeout)
        return RunTimeout(2 * self.target.expected_inference_seconds(macs), defaults.INFERENCE_SLACK_S)
