"""Flash a board through pyOCD, used as a library, and hand back its serial link.

One pyOCD session per programming: the probe chosen by unique ID, the chip's target type from
the target descriptor (with its CMSIS-Pack when pyOCD has none built in), the image programmed,
verified and the core reset (harness.device.pyocd.program). A board that already runs the
image (its handshake names the same build and model) is not flashed again unless asked; a board
that gives no handshake after flashing is flashed once more, then reported.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.build.firmware import FirmwareImage
from harness.device.board import Board
from harness.device.identity import identity_problems
from harness.device.link.protocol import LinkClient, LinkError
from harness.device.loaders.base import Loader, LoadError
from harness.device.port import open_port

HANDSHAKE_TIMEOUT_S = 0.5  # per try: a running firmware answers HELLO in milliseconds
# Per try, right after a reset: the firmware first starts (clocks, .bss, stack paint), which on a
# busy emulator behind RFC 2217 can take a second or more.
BOOT_HANDSHAKE_TIMEOUT_S = 1.5
FLASH_ATTEMPTS = 2  # a board that gives no handshake after this many programmings is reported


class PyocdBoardLoader(Loader):
    def __init__(self, board: Board, image: FirmwareImage):
        self.board = board
        self.image = image
        self.flashed = False  # whether start() programmed the board (False: it already ran the image)
        self.flash_seconds: float | None = None  # how long the last programming took

    def start(self, image: Path) -> str:
        probe, packs = board_ready(self.board)
        port = self.board.port
        if not self.board.reflash and self._runs_image(port, HANDSHAKE_TIMEOUT_S):
            return port
        for _ in range(FLASH_ATTEMPTS):
            self._program(probe, packs, Path(image))
            if self._runs_image(port, BOOT_HANDSHAKE_TIMEOUT_S):
                return port
        raise LoadError(
            f"no handshake from the firmware on {port} after flashing {Path(image).name} {FLASH_ATTEMPTS} times "
            f"through probe {probe.unique_id}. Check that --port is this board's virtual COM port (the ST-LINK's, "
            "paired by its USB serial number) and that the board is powered"
        )

    def stop(self) -> None:
        """The board keeps running its image: nothing to release between sessions."""

    # --- the board --------------------------------------------------------------------------------

    def _runs_image(self, port: str, timeout: float) -> bool:
        """True when the firmware on the board answers the handshake as the image would."""
        link = open_port(port, self.board.link_baud, timeout)
        try:
            info = LinkClient(link, timeout=timeout, name=port).hello()
        except LinkError:
            return False  # silent, or another protocol: not our image
        finally:
            link.close()
        return not identity_problems(info, self.image)

    def _program(self, probe, packs: list[str], image: Path) -> None:
        from pyocd.core.exceptions import Error as PyocdError
        from pyocd.core.exceptions import ProbeError
        from pyocd.core.session import Session

        from harness.device.pyocd.program import program_image

        options = {"target_override": self.board.target.pyocd_target, "pack": packs or None,
                   "hide_programming_progress": True}  # the harness shows its own progress
        started = time.monotonic()
        try:
            with Session(probe, options=options) as session:
                program_image(session, image)
        except (ProbeError, OSError) as exc:  # OSError: a remote probe whose server is unreachable
            raise LoadError(
                f"the debug probe {probe.unique_id} cannot be used: {exc}. If another program holds it (pyOCD, "
                "STM32CubeProgrammer, an IDE's debugger), close that program and run again"
            ) from None
        except PyocdError as exc:
            raise LoadError(f"pyOCD could not program {image.name} through {probe.unique_id}: {exc}") from None
        self.flashed = True
        self.flash_seconds = time.monotonic() - started


# --- what must be there before anything is built or flashed -----------------------------------------


def board_ready(board: Board):
    """The one probe to use and the packs pyOCD needs, or one LoadError naming all that is missing."""
    problems = []
    probe = None
    try:
        probe = _probe(board)
    except LoadError as exc:
        problems.append(str(exc))
    if board.port is None:
        problems.append("no serial port: give the board's ST-LINK virtual COM port with --port "
                        "(e.g. --port /dev/ttyACM0)")
    packs: list[str] = []
    try:
        packs = _packs(board)
    except LoadError as exc:
        problems.append(str(exc))
    if problems:
        raise LoadError(f"cannot flash target {board.target.id}: " + "; ".join(problems))
    return probe, packs


def _probe(board: Board):
    from pyocd.core.helpers import ConnectHelper

    wanted = board.probe
    probes = ConnectHelper.get_all_connected_probes(blocking=False, unique_id=wanted, print_wait_message=False)
    if not probes:
        if wanted is None:
            raise LoadError("pyOCD finds no debug probe: connect the board's ST-LINK USB connector, and on Linux "
                            "install the ST-LINK udev rules so that you may open it")
        raise LoadError(f"pyOCD finds no debug probe whose unique ID contains '{wanted}'; `pyocd list` shows "
                        "the connected ones")
    if len(probes) > 1:
        listed = ", ".join(f"{p.unique_id} ({p.description})" for p in probes)
        raise LoadError(f"{len(probes)} debug probes are connected ({listed}): choose one with --probe UNIQUE_ID")
    return probes[0]


def _packs(board: Board) -> list[str]:
    from pyocd.target import TARGET
    from pyocd.target.pack.pack_target import ManagedPacks, PackTargets

    target = board.target
    name = target.pyocd_target
    if name is None:
        raise LoadError(f"targets/{target.id}.toml names no pyocd_target in its [load] table")
    if name in TARGET:
        return []
    if board.pack is not None:
        pack = Path(board.pack)
        if not pack.is_file():
            raise LoadError(f"--pack {pack}: no such file")
        parts: list[str] = []
        try:
            PackTargets.process_targets_from_pack(str(pack), lambda device: parts.append(device.part_number))
        except Exception as exc:  # pyOCD raises several kinds for a file that is not a pack
            raise LoadError(f"--pack {pack}: not a readable CMSIS-Pack ({exc})") from None
        if name not in (part.lower() for part in parts):
            raise LoadError(f"--pack {pack} does not define {name}; it is {target.pack_name} that does")
        return [str(pack)]
    if any(device.part_number.lower() == name for device in ManagedPacks.get_installed_targets()):
        return []
    raise LoadError(
        f"pyOCD has no built-in target {name}: it comes from the CMSIS-Pack {target.pack_name} (2.1.0 or later). "
        f"Install it once with `pyocd pack install {name}`, or pass the downloaded .pack file with --pack PATH"
    )
