"""Propose a hardware map from the debug probes and serial ports connected to this host.

Each probe pyOCD finds is a board; its serial port is the one whose USB serial number is the
probe's unique ID (an ST-LINK's virtual COM port shares its serial number), named by its stable
/dev/serial/by-id link when there is one. The target comes from the board pyOCD recognizes
behind the probe, or from --target; when neither says, the entry's target is left empty and a
note says so, for the user to fill in (`hil boards check` refuses the map until then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.targets import available_targets, load_target

BY_ID_DIR = Path("/dev/serial/by-id")


def connected_probes() -> list:
    from pyocd.core.helpers import ConnectHelper

    return list(ConnectHelper.get_all_connected_probes(blocking=False, print_wait_message=False))


def serial_ports() -> list:
    from serial.tools import list_ports

    return list(list_ports.comports())


@dataclass
class Proposal:
    entries: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def yaml(self) -> str:
        header = ["# hil hardware map proposed by `hil boards scan`; check it with `hil boards check FILE`"]
        header += [f"# {note}" for note in self.notes]
        return "\n".join(header) + "\n" + yaml.safe_dump(self.entries, sort_keys=False, default_flow_style=False)


def _targets_by_chip() -> dict[str, str]:
    """pyOCD target type -> hil target, for the boards hil flashes through a probe."""
    chips = {}
    for target_id in available_targets():
        target = load_target(target_id)
        if target.load_method == "pyocd" and target.pyocd_target:
            chips[target.pyocd_target.lower()] = target_id
    return chips


def _stable_path(device: str, by_id: Path) -> str:
    """The /dev/serial/by-id link to `device` (it survives replugging), else `device` itself."""
    try:
        links = sorted(by_id.iterdir())
    except OSError:
        return device
    real = Path(device).resolve()
    for link in links:
        if link.resolve() == real:
            return str(link)
    return device


def propose(probes: list, ports: list, target: str | None = None, by_id: Path | None = None) -> Proposal:
    """The map for these probes and ports; `target` for every board, else as pyOCD recognizes it.
    Ports are named by their link in `by_id` (default /dev/serial/by-id) when they have one."""
    by_id = BY_ID_DIR if by_id is None else by_id
    chips = _targets_by_chip()
    proposal = Proposal()
    paired: set[str] = set()
    used_ids: set[str] = set()
    for probe in sorted(probes, key=lambda p: p.unique_id):
        uid = probe.unique_id
        info = getattr(probe, "associated_board_info", None)
        chip = getattr(info, "target", None)
        board_target = target or chips.get((chip or "").lower())
        what = f"probe {uid} ({probe.description}{f', {info.name}' if info is not None else ''})"
        if board_target is None:
            known = ", ".join(sorted(set(chips.values())))
            proposal.notes.append(f"{what}: pyOCD does not say which chip is behind it; set its target "
                                  f"(boards hil flashes: {known}) or scan again with --target")
        entry_id = f"{board_target or 'board'}-{uid[-6:].lower()}"
        if entry_id in used_ids:
            entry_id = f"{board_target or 'board'}-{uid.lower()}"
        used_ids.add(entry_id)
        entry: dict = {"id": entry_id, "target": board_target, "probe": uid}
        mine = sorted((p for p in ports if (p.serial_number or "").casefold() == uid.casefold()),
                      key=lambda p: p.device)
        if mine:
            entry["port"] = _stable_path(mine[0].device, by_id)
            paired.update(p.device for p in mine)
            if len(mine) > 1:
                proposal.notes.append(f"{what} has {len(mine)} serial ports ({', '.join(p.device for p in mine)}): "
                                      f"the first is proposed; make sure it is the board's link")
        else:
            proposal.notes.append(f"{what}: no serial port has its USB serial number; add the board's port")
        proposal.entries.append(entry)
    for target_id in sorted({e["target"] for e in proposal.entries if e["target"] is not None}):
        board_target = load_target(target_id)
        if board_target.pack_name is not None:
            proposal.notes.append(f"{target_id} boards: add `pack: FILE` (the {board_target.pack_name} .pack) to each, "
                                  f"unless pyOCD has it installed (`pyocd pack install {board_target.pyocd_target}`)")
    for port in sorted(ports, key=lambda p: p.device):
        if port.device not in paired and proposal.entries:
            proposal.notes.append(f"serial port {port.device} ({port.description}) has no probe with its USB "
                                  "serial number; left out")
    return proposal


def nothing_found(ports: list) -> str:
    seen = ", ".join(sorted(p.device for p in ports)) or "none"
    return (f"no debug probe is connected (pyOCD lists none), so there is no board to propose; serial ports: {seen}. "
            "Connect the boards' ST-LINK USB connectors (on Linux, with the ST-LINK udev rules installed)")
