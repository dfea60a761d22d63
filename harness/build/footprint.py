"""Where every byte of a firmware image goes, by owner (docs/results.md, "Meaning of the footprint keys").

`measure_footprint(image, stack_bytes)` reads three things:

- the ELF's section headers (pyelftools): which sections the image has, how big they are, and
  which of them occupy flash (their bytes are in the image) and RAM (they are written at run time);
- the GNU ld map file the build writes beside it (harness/build/firmware.py): every input section, its
  address and size, and the object or archive member it came from. The build names each object
  after its owner (objects/kernels__conv.o, objects/model__<name>.o, ...), so each byte of each
  section is traced to one owner;
- the stack high-water mark of one inference, measured on the device (`Device.measure_stack`),
  or None where the board cannot measure it.

Owners:

| owner   | objects                                   | flash line      | RAM line       |
|---------|-------------------------------------------|-----------------|----------------|
| model   | objects/model__<name>.o (generated code)  | model_code      | model_data     |
| engine  | objects/kernels__*.o                      | engine_code     | engine_data    |
| harness | objects/app__*.o (the protocol loop)      | harness         | harness        |
| board   | objects/bsp__*.o                          | board           | board          |
| libc    | everything else the linker pulled in: newlib/libgcc archive members, crt objects; on a
|         | native build also the dynamic-linking tables the system linker writes (.dynsym, .rela.*,
|         | .plt, .got, .dynamic, .eh_frame_hdr: the map names them after Scrt1.o) |

and on their own lines, whoever compiled them: `weights` (the whole .hil_weights section),
`arena` (the model's .bss.hil_arena), `stack_used`/`stack_unused` (the reserved .stack section of
a bare-metal image), `data_init` (the load image in flash of every section that is copied to
RAM: .data, and on the host .got.plt). Alignment padding between input sections goes to the
owner of the bytes before it (the next owner at the start of a section); the arena never takes
padding, so the arena line is exactly the planned arena.

Flash and RAM:

- flash: every allocated section whose bytes are in the image (not NOBITS). `elf_flash` is
  their total; on the host it is the process image on disk (its allocated part).
- RAM, bare metal (no program interpreter): NOBITS sections and sections whose run address
  differs from their load address (copied by startup). A section's write flag is not used: the
  arm-none-eabi .rodata is flagged writable only because crtbegin's .init_array lands in it.
- RAM, native process: writable sections outside PT_GNU_RELRO (.data, .bss, .got.plt). RELRO
  sections (.data.rel.ro, .got, .dynamic, .init_array) are read-only once relocated: flash only.
  The shared C library (libc.so.6) and the process' stack and heap are not in the image and are
  not counted: the host's libc line is only what is linked into the executable.

The stack: `tree.ram.stack_used` is the measured high-water mark of one inference and
`stack_unused` the rest of the image's stack reservation (the protocol loop's own frames above
the inference and the free space). When the mark is unknown both are null: the reservation
(`stack_reserved`) is known, its split is not. A native image reserves no stack (stack_unused 0,
stack_used null: its stack is the OS's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.errors import HilError

WEIGHTS_SECTION = ".hil_weights"
STACK_SECTION = ".stack"
ARENA_INPUT = ".bss.hil_arena"

FLASH_KEYS = ("weights", "model_code", "engine_code", "harness", "board", "libc", "data_init")
RAM_KEYS = ("arena", "model_data", "engine_data", "stack_used", "stack_unused", "harness", "board", "libc")

# The build's object prefixes (harness/build/firmware.py, object_name) -> owners.
OBJECT_OWNERS = {"model": "model", "kernels": "engine", "app": "harness", "bsp": "board"}
FLASH_LINE = {"model": "model_code", "engine": "engine_code", "harness": "harness", "board": "board", "libc": "libc"}
RAM_LINE = {"model": "model_data", "engine": "engine_data", "harness": "harness", "board": "board", "libc": "libc",
            "arena": "arena"}


@dataclass(frozen=True)
class Footprint:
    """The footprint block of run.json; `to_json()` gives it in the docs' shape. Sizes in bytes."""

    activation_ram: int  # the arena (inputs and outputs live inside it)
    runtime_ram: int | None  # model + engine .data/.bss outside the arena + stack_bytes; None: stack unknown
    weights_flash: int  # the .hil_weights section
    code_flash: int  # code and read-only data of the engine and the generated model
    total_ram: int | None
    total_flash: int
    stack_bytes: int | None  # stack high-water of one inference, measured on the device
    tree: dict[str, dict[str, int | None]]  # {"flash": FLASH_KEYS -> bytes, "ram": RAM_KEYS -> bytes}
    elf_flash: int  # allocated sections with contents
    elf_ram: int  # allocated sections in RAM (the stack reservation included)
    stack_reserved: int = 0  # the image's .stack section (0: none; a native process' stack is the OS's)
    # (flash, RAM) bytes per object or archive member as the map names it, padding included; for reports
    objects: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "activation_ram": self.activation_ram,
            "runtime_ram": self.runtime_ram,
            "weights_flash": self.weights_flash,
            "code_flash": self.code_flash,
            "total_ram": self.total_ram,
            "total_flash": self.total_flash,
            "stack_bytes": self.stack_bytes,
            "tree": {"flash": {k: self.tree["flash"][k] for k in FLASH_KEYS},
                     "ram": {k: self.tree["ram"][k] for k in RAM_KEYS}},
            "elf_flash": self.elf_flash,
            "elf_ram": self.elf_ram,
        }


# ---- the map file ----

@dataclass(frozen=True)
class MapEntry:
    section: str  # the input section's name, e.g. ".text.hil_conv_s8"
    address: int
    size: int
    source: str  # the object or archive member, as the map names it ("objects/kernels__conv.o")


_HEX = r"0x[0-9a-fA-F]+"
_PLACED = rf"(?P<address>{_HEX})\s+(?P<size>{_HEX})"
# ".text           0x10000000     0x2c34" (output section; address and size may be on the next line)
_OUTPUT = re.compile(rf"^(?P<name>[^\s(]+)(?:\s+{_PLACED}(?:\s+load address\s+{_HEX})?)?\s*$")
# " .text.hil_conv_s8  0x10000308  0xcc objects/kernels__conv.o" (input section or *fill*)
_INPUT = re.compile(rf"^ (?P<name>[^\s(*]\S*|\*fill\*)(?:\s+{_PLACED}(?:\s+(?P<source>\S.*?))?)?\s*$")
# "                0x10000308       0xcc objects/kernels__conv.o" (after a long name)
_CONTINUED = re.compile(rf"^\s+{_PLACED}(?:\s+(?P<source>\S.*?))?\s*$")
_MEMORY_MAP = "Linker script and memory map"
FILL = "*fill*"


def read_map(path: Path) -> dict[str, list[MapEntry]]:
    """Input sections (and *fill*) per output section name, from a GNU ld map file."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise HilError(f"{path}: cannot read the linker map ({exc})") from None
    try:
        start = lines.index(_MEMORY_MAP) + 1
    except ValueError:
        raise HilError(f"{path}: not a GNU ld map file (no '{_MEMORY_MAP}')") from None
    sections: dict[str, list[MapEntry]] = {}
    current: list[MapEntry] | None = None
    pending: str | None = None  # an input section whose address and size are on the next line
    for line in lines[start:]:
        if pending is not None:
            found = _CONTINUED.match(line)
            name, pending = pending, None
            if found:
                _add(current, name, found)
                continue
        if not line.startswith(" "):
            found = _OUTPUT.match(line)
            if found and not line.startswith(("LOAD ", "OUTPUT(")):
                current = sections.setdefault(found["name"], [])
            continue
        found = _INPUT.match(line)
        if found is None or current is None:
            continue
        if found["address"] is None:
            pending = found["name"]
        else:
            _add(current, found["name"], found)
    return sections


def _add(entries: list[MapEntry] | None, name: str, found: re.Match) -> None:
    size = int(found["size"], 16)
    source = found["source"] or ""
    if entries is not None and size > 0 and not source.startswith("load address"):
        entries.append(MapEntry(name, int(found["address"], 16), size, source if name != FILL else ""))


def owner_of(source: str) -> str:
    """The owner of an object as the map names it: objects/<prefix>__<stem>.o, else libc."""
    name = source.rsplit("/", 1)[-1]
    if source.startswith("objects/") and "__" in name:
        prefix = name.split("__", 1)[0]
        if prefix in OBJECT_OWNERS:
            return OBJECT_OWNERS[prefix]
    return "libc"


# ---- the ELF ----

@dataclass(frozen=True)
class _Section:
    name: str
    address: int
    size: int
    in_flash: bool
    in_ram: bool


def _segments(elf: ELFFile, kind: str) -> list:
    return [s for s in elf.iter_segments() if s["p_type"] == kind]


def _sections(elf: ELFFile) -> list[_Section]:
    native = bool(_segments(elf, "PT_INTERP") or _segments(elf, "PT_DYNAMIC"))
    loads = _segments(elf, "PT_LOAD")
    relro = [(s["p_vaddr"], s["p_vaddr"] + s["p_memsz"]) for s in _segments(elf, "PT_GNU_RELRO")]
    out = []
    for section in elf.iter_sections():
        if not section["sh_flags"] & SH_FLAGS.SHF_ALLOC or section["sh_size"] == 0:
            continue
        address, size = section["sh_addr"], section["sh_size"]
        in_flash = section["sh_type"] != "SHT_NOBITS"
        if not in_flash:
            in_ram = True
        elif native:
            writable = bool(section["sh_flags"] & SH_FLAGS.SHF_WRITE)
            in_ram = writable and not any(lo <= address and address + size <= hi for lo, hi in relro)
        else:
            in_ram = _load_address(loads, section) != address
        out.append(_Section(section.name, address, size, in_flash, in_ram))
    return out


def _load_address(loads: list, section) -> int:
    """Where the section's bytes sit in the image: its PT_LOAD segment's physical address."""
    for segment in loads:
        in_file = 0 <= section["sh_offset"] - segment["p_offset"] < segment["p_filesz"]
        in_memory = segment["p_vaddr"] <= section["sh_addr"] < segment["p_vaddr"] + segment["p_memsz"]
        if in_file and in_memory:
            return segment["p_paddr"] + section["sh_addr"] - segment["p_vaddr"]
    return section["sh_addr"]


def _symbol_size(elf: ELFFile, name: str) -> int | None:
    for section in elf.iter_sections():
        if isinstance(section, SymbolTableSection):
            for symbol in section.get_symbol_by_name(name) or []:
                return int(symbol["st_size"])
    return None


# ---- attribution ----

# Input sections of SHF_MERGE constants (.rodata.str1.4, .rodata.cst8): the linker merges them.
_MERGEABLE = re.compile(r"\.(str\d+\.\d+|cst\d+)$")

def _attribute(section: _Section, entries: list[MapEntry], map_path: Path) -> list[tuple[str, int, str]]:
    """(owner, bytes, source) pieces covering every byte of one section, padding included."""
    end = section.address + section.size
    inside = sorted((e for e in entries if section.address <= e.address < end), key=lambda e: e.address)
    real = [e for e in inside if e.section != FILL]
    if not real:
        raise HilError(
            f"{map_path}: the linker map names no input section inside {section.name} "
            f"({section.size} bytes at 0x{section.address:x}): is the map from this image?"
        )
    pieces: list[tuple[str, int, str]] = []
    owners = [_entry_owner(e) for e in real]
    cursor = section.address
    for index, entry in enumerate(real):
        if _MERGEABLE.search(entry.section):
            # The map gives mergeable constants (strings) their size before the linker merged
            # duplicates away: they keep only the bytes up to the next input section.
            following = real[index + 1].address if index + 1 < len(real) else end
            start = max(entry.address, cursor)
            clipped = max(min(entry.address + entry.size, following) - start, 0)
            entry = replace(entry, address=start, size=clipped)
        if entry.address < cursor or entry.address + entry.size > end:
            raise HilError(
                f"{map_path}: input section {entry.section} of {entry.source} (0x{entry.address:x}, "
                f"{entry.size} bytes) overlaps another or runs past {section.name}: is the map from this image?"
            )
        if entry.address > cursor:
            pieces.append(_padding(owners, real, index, entry.address - cursor))
        pieces.append((owners[index], entry.size, entry.source))
        cursor = entry.address + entry.size
    if cursor < end:
        pieces.append(_padding(owners, real, len(real), end - cursor))
    return pieces


def _entry_owner(entry: MapEntry) -> str:
    owner = owner_of(entry.source)
    if owner == "model" and (entry.section == ARENA_INPUT or entry.section.startswith(ARENA_INPUT + ".")):
        return "arena"
    return owner


def _padding(owners: list[str], entries: list[MapEntry], index: int, size: int) -> tuple[str, int, str]:
    """Padding before entries[index]: the owner before it, else the one after; never the arena."""
    for at in (index - 1, index):
        if 0 <= at < len(owners) and owners[at] != "arena":
            return owners[at], size, entries[at].source
    for at in range(index + 1, len(owners)):  # arena alone at the start: the next owner after it
        if owners[at] != "arena":
            return owners[at], size, entries[at].source
    return "board", size, "(linker script padding)"


def measure_footprint(image, stack_bytes: int | None) -> Footprint:
    """The footprint of a built image (harness.build.firmware.FirmwareImage) and the stack high-water
    mark of one inference measured on the device (None where the board cannot measure it)."""
    if image.map_file is None or not Path(image.map_file).is_file():
        raise HilError(f"{image.path}: no linker map beside the image; rebuild it (build/firmware.py writes one)")
    if stack_bytes is not None and stack_bytes < 0:
        raise HilError(f"stack_bytes must be a byte count, got {stack_bytes}")
    entries = read_map(Path(image.map_file))
    try:
        with open(image.path, "rb") as f:
            elf = ELFFile(f)
            sections = _sections(elf)
            arena_symbol = _symbol_size(elf, f"{image.model.name}_arena")
    except (OSError, ValueError) as exc:
        raise HilError(f"{image.path}: cannot read the ELF ({exc})") from None
    if arena_symbol is None:
        raise HilError(f"{image.path}: the ELF has no symbol {image.model.name}_arena: was it built from this model?")

    flash = dict.fromkeys(FLASH_KEYS, 0)
    ram: dict[str, int | None] = dict.fromkeys(RAM_KEYS, 0)
    objects: dict[str, list[int]] = {}
    reserved = 0
    for section in sections:
        if section.name == STACK_SECTION and not section.in_flash:
            reserved += section.size
            continue
        if section.name == WEIGHTS_SECTION and not section.in_ram:
            flash["weights"] += section.size
            for _, size, source in _attribute(section, entries.get(section.name, []), image.map_file):
                objects.setdefault(source, [0, 0])[0] += size
            continue
        pieces = _attribute(section, entries.get(section.name, []), image.map_file)
        for owner, size, source in pieces:
            counts = objects.setdefault(source, [0, 0])
            counts[0] += size if section.in_flash else 0
            counts[1] += size if section.in_ram else 0
            if section.in_flash:
                if section.in_ram:
                    flash["data_init"] += size
                elif owner == "arena":
                    raise HilError(f"{image.path}: the arena ({ARENA_INPUT}) is in {section.name}, which is not RAM")
                else:
                    flash[FLASH_LINE[owner]] += size
            if section.in_ram:
                ram[RAM_LINE[owner]] += size
    if ram["arena"] != arena_symbol:
        raise HilError(
            f"{image.path}: the map places {ram['arena']} bytes of {ARENA_INPUT}, the symbol "
            f"{image.model.name}_arena has {arena_symbol}: is the map from this image?"
        )

    if stack_bytes is None:
        ram["stack_used"] = None
        ram["stack_unused"] = None if reserved else 0
    elif not reserved:
        raise HilError(
            f"{image.path}: the image reserves no stack (a native process' stack is the OS's), so a "
            f"stack of {stack_bytes} bytes has no place in its footprint; pass stack_bytes=None"
        )
    elif stack_bytes > reserved:
        raise HilError(f"a stack high-water mark of {stack_bytes} bytes exceeds the {reserved}-byte .stack section")
    else:
        ram["stack_used"], ram["stack_unused"] = stack_bytes, reserved - stack_bytes

    elf_flash = sum(s.size for s in sections if s.in_flash)
    elf_ram = sum(s.size for s in sections if s.in_ram)
    counted_ram = sum(v for v in ram.values() if v is not None) + (reserved if stack_bytes is None else 0)
    if sum(flash.values()) != elf_flash or counted_ram != elf_ram:
        raise HilError(
            f"{image.path}: the footprint tree ({sum(flash.values())} flash, {counted_ram} RAM bytes) does not "
            f"add up to the ELF ({elf_flash} flash, {elf_ram} RAM bytes)"
        )
    activation = ram["arena"]
    data = ram["model_data"] + ram["engine_data"]
    runtime = None if stack_bytes is None else data + stack_bytes
    code = flash["model_code"] + flash["engine_code"]
    return Footprint(
        activation_ram=activation,
        runtime_ram=runtime,
        weights_flash=flash["weights"],
        code_flash=code,
        total_ram=None if runtime is None else activation + runtime,
        total_flash=flash["weights"] + code,
        stack_bytes=stack_bytes,
        tree={"flash": flash, "ram": ram},
        elf_flash=elf_flash,
        elf_ram=elf_ram,
        stack_reserved=reserved,
        objects={k: (v[0], v[1]) for k, v in sorted(objects.items(), key=lambda item: (-sum(item[1]), item[0]))},
    )
