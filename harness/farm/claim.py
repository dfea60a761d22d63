"""Take a board of the hardware map for this process and hold it until released.

Without a board named, the first free board of the target, in the map's order; a process that
finds them all taken tries again until its wait is over, then says who holds them. The same
for a pytest-xdist worker (the plugin's hil_board fixture) and for `hil bench --hardware-map`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from harness.device.board import Board
from harness.errors import HilError
from harness.farm.hardware_map import HardwareMap, MapEntry
from harness.farm.locks import holder_of, lock_one_of


@dataclass
class ClaimedBoard:
    entry: MapEntry
    board: Board  # the entry's board record, with the caller's other options
    holds: contextlib.ExitStack  # the board's lock, and its labgrid place when it has one

    def release(self) -> None:
        self.holds.close()

    def __enter__(self) -> ClaimedBoard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def candidates(hardware_map: HardwareMap, target_id: str, board_id: str | None = None) -> tuple[MapEntry, ...]:
    """The entries a run of `target_id` may take: the one named, else every one of the target."""
    if board_id is not None:
        entry = hardware_map.entry(board_id)
        if entry.target != target_id:
            raise HilError(f"--board {board_id} is a {entry.target} board (entry {entry.index} of "
                           f"{hardware_map.path}), not a {target_id} one")
        return (entry,)
    entries = hardware_map.of_target(target_id)
    if not entries:
        targets = ", ".join(sorted({e.target for e in hardware_map.entries}))
        raise HilError(f"{hardware_map.path} has no board of target {target_id}; its boards are of: {targets}")
    return entries


def claim_board(hardware_map: HardwareMap, options: Board, *, holder: str, wait: float,
                board_id: str | None = None, coordinator: str | None = None) -> ClaimedBoard:
    """Hold a board of the map for the target of `options` (the one named `board_id`, if given)
    and return its record: `options` placed at that board. A board with a labgrid place is also
    reserved at `coordinator` (HOST:PORT), so sessions on other hosts cannot take it."""
    entries = candidates(hardware_map, options.target.id, board_id)
    lock = lock_one_of([e.id for e in entries], holder, wait)
    if lock is None:
        held = "; ".join(f"{e.id} is held by {holder_of(e.id)}" for e in entries)
        which = f"board {board_id}" if board_id is not None else f"{options.target.id} board"
        raise HilError(f"no free {which} in {hardware_map.path} after waiting {wait:g} s: {held}. Wait for them "
                       "to be free, add boards to the map, or run fewer workers (-n)")
    entry = next(e for e in entries if e.id == lock.board_id)
    holds = contextlib.ExitStack()
    holds.callback(lock.release)
    with holds:
        board = entry.board(options)
        if entry.labgrid_place is not None:
            if coordinator is None:
                raise HilError(f"{hardware_map.path}: {entry.name} is reserved through labgrid place "
                               f"{entry.labgrid_place}: give the coordinator with --coordinator HOST:PORT")
            from harness.farm.remote import reserved

            holds.enter_context(reserved(entry.labgrid_place, coordinator, max(wait, 1.0)))  # one try at least
        return ClaimedBoard(entry, board, holds.pop_all())
