"""The hardware map: the boards of one lab host, read from YAML and checked before any is used.

A list of boards, as in Zephyr twister's hardware map, following hardware-map.schema.json (beside
this file); it lives with the lab, not in the repository:

    - id: u585-a                      # unique in the lab; also the name of its lock (locks.py)
      target: u585                    # a target id (targets/*.toml)
      probe: 0036003A3131510A33353535 # the debug probe's pyOCD unique ID (`pyocd list`)
      port: /dev/serial/by-id/usb-STMicroelectronics_STLINK-V3_0036003A3131510A33353535-if02
      pack: packs/Keil.STM32U5xx_DFP.2.1.0.pack  # relative to the map's folder
    - id: shelf-1                     # an emulator someone else runs, flashed through its gdbstub
      target: qemu-m33
      probe: qemu-gdb:127.0.0.1:1234
      port: socket://127.0.0.1:4321
    - id: lab2-u585                   # on another host: its probe server, ser2net, a labgrid place
      target: u585
      probe: remote:lab2.example:5555
      port: rfc2217://lab2.example:3000
      labgrid_place: lab2-u585        # held for the session (--coordinator HOST:PORT)

Each entry becomes a harness.device.board.Board. Every mistake is one HilError line naming the
file, the entry (index and id) and the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from harness.device.board import Board
from harness.errors import HilError
from harness.io import json_schema_validator
from harness.targets import Target, available_targets, load_target

SCHEMA_PATH = Path(__file__).with_name("hardware-map.schema.json")
# Where a board is: what an entry says, and what the command line must then leave to the map.
PLACE_OPTIONS = {"probe": "--probe", "port": "--port", "baud": "--baud", "pack": "--pack"}


@dataclass(frozen=True)
class MapEntry:
    index: int  # its place in the file, from 0
    id: str
    target: str
    probe: str | None = None
    port: str | None = None
    baud: int | None = None
    pack: Path | None = None  # absolute: relative paths are taken from the map's folder
    labgrid_place: str | None = None  # reserved through a labgrid coordinator while a session holds the board

    @property
    def name(self) -> str:
        return f"entry {self.index} (id {self.id})"

    def board(self, options: Board | None = None) -> Board:
        """This entry's board record. The options that are not about where the board is (link
        timeout, loader, reflash...) come from `options`, a record of the same target."""
        place = {"probe": self.probe, "port": self.port, "baud": self.baud, "pack": self.pack}
        if options is None:
            return Board(load_target(self.target), **place)
        assert options.target.id == self.target, (options.target.id, self.target)
        return dataclasses.replace(options, **place)


@dataclass(frozen=True)
class HardwareMap:
    path: Path
    entries: tuple[MapEntry, ...]

    def of_target(self, target_id: str) -> tuple[MapEntry, ...]:
        return tuple(e for e in self.entries if e.target == target_id)

    def entry(self, board_id: str) -> MapEntry:
        for entry in self.entries:
            if entry.id == board_id:
                return entry
        ids = ", ".join(e.id for e in self.entries)
        raise HilError(f"--board {board_id}: {self.path} has no board of that id; its boards: {ids}")

    def summary(self) -> str:
        """'3 boards: u585-a, u585-b (u585); shelf-1 (qemu-m33)'."""
        by_target: dict[str, list[str]] = {}
        for entry in self.entries:
            by_target.setdefault(entry.target, []).append(entry.id)
        groups = "; ".join(f"{', '.join(ids)} ({target})" for target, ids in by_target.items())
        count = len(self.entries)
        return f"{count} board{'s' if count != 1 else ''}: {groups}"


def refuse_place_options(given: dict[str, object]) -> None:
    """With a hardware map, the map says where each board is: --probe, --port, --baud, --pack
    given as well would name one board for all of them. `given` maps each option to its value."""
    for option, value in given.items():
        if value is not None:
            raise HilError(f"{option} does not go with --hardware-map: the map names each board's own; "
                           f"drop {option}, or put it in the map")


def load_hardware_map(path: Path | str) -> HardwareMap:
    path = Path(path)
    raw = _read(path)
    _validate(path, raw)
    entries: list[MapEntry] = []
    for index, item in enumerate(raw):
        entry = _entry(path, index, item)
        _check_unique(path, entry, entries)
        entries.append(entry)
    return HardwareMap(path, tuple(entries))


# --- reading ----------------------------------------------------------------------------------------


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HilError(f"{path}: no such file (a hardware map: `hil boards scan` proposes one)") from None
    except IsADirectoryError:
        raise HilError(f"{path}: is a folder, not a hardware map") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HilError(f"{path}: cannot read it ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise HilError(f"{path}: not valid YAML{where}: {problem}") from None


def _validator() -> jsonschema.protocols.Validator:
    return json_schema_validator(SCHEMA_PATH)


def _label(index: int, item: object) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return f"entry {index} (id {item['id']})"
    return f"entry {index}"


def _validate(path: Path, raw: object) -> None:
    if raw is None or raw == []:
        raise HilError(f"{path}: no boards; a hardware map is a list of boards (id, target, probe, port, baud, pack)")
    if not isinstance(raw, list):
        raise HilError(f"{path}: not a hardware map: expected a list of boards, one per board, got a "
                       f"{type(raw).__name__}")
    errors = list(_validator().iter_errors(raw))
    if not errors:
        return
    error = min(errors, key=lambda e: (list(e.absolute_path)[:1], len(e.absolute_path), e.message))
    where = list(error.absolute_path)
    if not where:
        raise HilError(f"{path}: not a hardware map: {error.message}")
    index = where[0]
    item = raw[index]
    label = _label(index, item)
    if not isinstance(item, dict):
        raise HilError(f"{path}: {label}: expected the fields of a board (id, target, ...), got {item!r}")
    if error.validator == "additionalProperties":
        known = _validator().schema["items"]["properties"]
        unknown = sorted(set(item) - set(known))
        raise HilError(f"{path}: {label}: field '{unknown[0]}' is unknown; the fields are {', '.join(known)}")
    if len(where) > 1:
        raise HilError(f"{path}: {label}: field '{where[1]}': {error.message}")
    raise HilError(f"{path}: {label}: {error.message}")


def _entry(path: Path, index: int, item: dict) -> MapEntry:
    label = _label(index, item)
    target_id = item["target"]
    if target_id not in available_targets():
        raise HilError(f"{path}: {label}: field 'target': unknown target '{target_id}'; known targets: "
                       f"{', '.join(available_targets())}")
    target = load_target(target_id)
    problem = _field_problem(target, item)
    if problem is not None:
        field, message = problem
        raise HilError(f"{path}: {label}: field '{field}': {message}")
    pack = None
    if "pack" in item:
        pack = (path.parent / Path(item["pack"]).expanduser()).resolve()
        if not pack.is_file():
            raise HilError(f"{path}: {label}: field 'pack': no such file: {pack}")
    entry = MapEntry(index, item["id"], target_id, item.get("probe"), item.get("port"), item.get("baud"), pack,
                     item.get("labgrid_place"))
    try:
        entry.board()  # the board record's own checks have the last word
    except HilError as exc:
        raise HilError(f"{path}: {label}: {exc}") from None
    return entry


def _field_problem(target: Target, item: dict) -> tuple[str, str] | None:
    """The first field this target cannot use or cannot do without, and why."""
    name = target.id
    has = {field: field in item for field in PLACE_OPTIONS}
    if target.load_method == "pyocd":  # a board: flashed through its probe, reached on its serial port
        if not has["probe"]:
            return "probe", (f"missing: a {name} board is flashed through its debug probe; give the probe's "
                             "pyOCD unique ID (`pyocd list`)")
        if not has["port"]:
            return "port", (f"missing: a {name} board is reached on its serial port; give it as a pyserial URL "
                            "(its ST-LINK's virtual COM port, e.g. /dev/ttyACM0)")
    elif target.load_method == "qemu":  # started by the harness, or on a shelf: reached by probe and port
        if has["probe"] != has["port"]:
            field = "port" if has["probe"] else "probe"
            return field, (f"missing: a {name} entry with a {'probe' if has['probe'] else 'port'} is an emulator "
                           "on a shelf, reached by its probe (qemu-gdb:HOST:PORT) and its port (socket://HOST:PORT); "
                           "give both, or neither for an emulator the harness starts itself")
    else:
        for field in ("probe", "port"):
            if has[field]:
                return field, f"target {name} cannot use it: the harness starts it itself and opens its link"
    if has["baud"] and target.transport != "serial":
        return "baud", f"target {name} cannot use it: its link is a socket, which has no baud rate"
    if has["pack"] and target.pack_name is None:
        why = (f"pyOCD knows its chip ({target.pyocd_target}) without a pack" if target.pyocd_target
               else "it is not flashed through pyOCD")
        return "pack", f"target {name} cannot use it: {why}"
    return None


def _check_unique(path: Path, entry: MapEntry, before: list[MapEntry]) -> None:
    for field, same in (("id", lambda a, b: a == b), ("probe", lambda a, b: a.casefold() == b.casefold()),
                        ("port", lambda a, b: a == b)):
        value = getattr(entry, field)
        if value is None:
            continue
        for other in before:
            theirs = getattr(other, field)
            if theirs is not None and same(value, theirs):
                raise HilError(f"{path}: {entry.name}: field '{field}': {other.name} has it too ('{value}'); "
                               f"each board has its own {field}")
