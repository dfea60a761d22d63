"""Put an ELF image on a target through an open pyOCD session, check it, and start it.

The same steps for any target pyOCD knows (a board through its ST-LINK, the emulator through the
QEMU probe): pyOCD's file programmer writes every loadable segment where the target's memory map
says (flash through the target's flash algorithm, RAM directly); then every segment is read back
and compared, since pyOCD itself does not verify; then the core is reset and left running.
"""

from __future__ import annotations

from pathlib import Path

from elftools.elf.elffile import ELFFile
from pyocd.flash.file_programmer import FileProgrammer

from harness.device.loaders.base import LoadError


def program_image(session, image: Path) -> None:
    """Program, verify and reset; a LoadError names the image and what went wrong."""
    image = Path(image)
    segments = loadable_segments(image)
    if not segments:
        raise LoadError(f"{image.name} has no loadable segment: nothing to program; link it with code and data")
    target = session.target
    # pyOCD skips data outside the target's memory map with a mere warning: reading back catches it.
    FileProgrammer(session).program(str(image), file_format="elf")
    for address, expected in segments:
        found = bytes(target.read_memory_block8(address, len(expected)))
        if found != expected:
            at = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
            raise LoadError(
                f"verifying {image.name} failed: the byte at {address + at:#010x} reads {found[at]:#04x} after "
                f"programming, the image has {expected[at]:#04x}; that memory did not keep what was written "
                "(check the target's memory map, or program again)"
            )
    target.reset()


def loadable_segments(image: Path) -> list[tuple[int, bytes]]:
    """(load address, bytes) of every segment a programmer writes: PT_LOAD with file contents."""
    with open(image, "rb") as stream:
        elf = ELFFile(stream)
        return [(segment["p_paddr"], segment.data()) for segment in elf.iter_segments()
                if segment["p_type"] == "PT_LOAD" and segment["p_filesz"] > 0]
