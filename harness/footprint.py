"""Where the bytes of a firmware image go, read from its ELF (pyelftools)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.errors import HilError

WEIGHTS_SECTION = ".hil_weights"


@dataclass(frozen=True)
class Footprint:
    flash_bytes: int  # everything loaded from flash: code, constants, weights, .data's initial values
    ram_bytes: int  # everything that occupies RAM: .data, .bss (arena included), reserved stack
    weights_bytes: int  # the .hil_weights section
    arena_bytes: int  # the model's arena symbol
    sections: dict[str, int]


def _is_ram(section) -> bool:
    return bool(section["sh_flags"] & SH_FLAGS.SHF_WRITE)


def read_footprint(elf_path: Path, model_name: str) -> Footprint:
    try:
        with open(elf_path, "rb") as f:
            elf = ELFFile(f)
            sections = {
                s.name: s["sh_size"] for s in elf.iter_sections()
                if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0
            }
            flash = sum(s["sh_size"] for s in elf.iter_sections()
                        if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_type"] != "SHT_NOBITS")
            ram = sum(s["sh_size"] for s in elf.iter_sections()
                      if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and _is_ram(s))
            arena = _symbol_size(elf, f"{model_name}_arena")
    except (OSError, ValueError) as exc:
        raise HilError(f"{elf_path}: cannot read the ELF ({exc})") from None
    return Footprint(flash, ram, sections.get(WEIGHTS_SECTION, 0), arena, sections)


def _symbol_size(elf: ELFFile, name: str) -> int:
    for section in elf.iter_sections():
        if isinstance(section, SymbolTableSection):
            for symbol in section.get_symbol_by_name(name) or []:
                return int(symbol["st_size"])
    raise HilError(f"the ELF has no symbol {name}: was it built from this model?")
