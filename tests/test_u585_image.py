"""The u585 firmware image (B-U585I-IOT02A), checked without a board: it builds for the example model
and for the default Yamnet-256, fits the STM32U585's memories, and its vector table is sane.

What a board would execute first is checked from the ELF (pyelftools): the vector table at the start
of flash (0x08000000, where the CPU boots), its first word the top of the stack inside SRAM, every
handler a Thumb address inside the image's code, USART1's entry the UART handler, and the load image
of .data in flash.
"""

from __future__ import annotations

import json
import shutil
import struct

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.build.firmware import FirmwareImage, build_firmware
from harness.build.footprint import measure_footprint
from harness.compiler import compile_file
from harness.targets import load_target

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")

FLASH = range(0x08000000, 0x08000000 + 2 * 1024 * 1024)  # RM0456 §2.3; targets/u585.toml
SRAM = range(0x20000000, 0x20000000 + 768 * 1024)  # SRAM1-3
SYSTEM_EXCEPTIONS, INTERRUPTS = 16, 126  # RM0456 Table 187: positions 0-125 on the STM32U585
USART1_IRQ = 61


@pytest.fixture(scope="module")
def target():
    return load_target("u585")


@pytest.fixture(scope="module")
def yamnet256(default_model_path):
    return compile_file(default_model_path, "yamnet256")


@pytest.fixture(scope="module", params=["example", "yamnet256"])
def image(request, target, example_compiled) -> FirmwareImage:
    model = example_compiled if request.param == "example" else request.getfixturevalue("yamnet256")
    return build_firmware(model, target)


class Elf:
    """Symbols and words of one image."""

    def __init__(self, image: FirmwareImage):
        with open(image.path, "rb") as f:
            elf = ELFFile(f)
            self.symbols = {
                symbol.name: (symbol["st_value"], symbol["st_size"])
                for section in elf.iter_sections() if isinstance(section, SymbolTableSection)
                for symbol in section.iter_symbols() if symbol.name
            }
            self.sections = {section.name: section for section in elf.iter_sections()}
            text = self.sections[".text"]
            self.text_address, self.text = text["sh_addr"], text.data()
            self.loads = [(s["p_vaddr"], s["p_paddr"]) for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]

    def address(self, name: str) -> int:
        return self.symbols[name][0]

    def words(self, address: int, count: int) -> list[int]:
        offset = address - self.text_address
        return list(struct.unpack_from(f"<{count}I", self.text, offset))


def test_the_image_fits_the_board(image, target):
    footprint = measure_footprint(image, None)
    elf = Elf(image)
    assert footprint.elf_flash <= target.flash_bytes and footprint.elf_ram <= target.ram_bytes
    assert elf.address("__hil_flash_start") == FLASH.start and elf.address("__hil_flash_end") == FLASH.stop
    assert elf.address("__hil_ram_start") == SRAM.start and elf.address("__hil_ram_end") == SRAM.stop
    assert elf.address("__hil_flash_used") <= len(FLASH)
    for name, section in elf.sections.items():
        if section["sh_flags"] & 0x2 and section["sh_size"]:  # SHF_ALLOC
            start, end = section["sh_addr"], section["sh_addr"] + section["sh_size"]
            memory = SRAM if section["sh_type"] == "SHT_NOBITS" or name == ".data" else FLASH
            assert start in memory and end - 1 in memory, (name, hex(start), hex(end))
    print(f"\nu585 footprint, {image.model.name}: {json.dumps(footprint.to_json())}")


def test_the_vector_table_starts_the_board(image):
    elf = Elf(image)
    entries = SYSTEM_EXCEPTIONS + INTERRUPTS
    assert elf.symbols["hil_board_vectors"] == (FLASH.start, 4 * entries)
    vectors = elf.words(FLASH.start, entries)
    stack_top = vectors[0]
    assert stack_top == elf.address("__hil_stack_end") and stack_top - 1 in SRAM and stack_top % 8 == 0
    code = range(elf.address("__hil_text_start"), elf.address("__hil_text_end"))
    handlers = [(position, vector) for position, vector in enumerate(vectors[1:], start=1) if vector]
    assert len(handlers) == entries - 1  # nothing is left empty: an unexpected interrupt reports a fault
    for position, vector in handlers:
        assert vector & 1 == 1, f"vector {position} (0x{vector:08x}) is not a Thumb address"
        assert vector & ~1 in code, f"vector {position} (0x{vector:08x}) is outside the code"
    assert vectors[1] == elf.address("hil_reset_handler") | 1
    assert vectors[3] == elf.address("hil_fault_entry") | 1  # HardFault
    assert vectors[SYSTEM_EXCEPTIONS + USART1_IRQ] == elf.address("u585_usart1_handler") | 1


def test_data_is_loaded_from_flash(image):
    elf = Elf(image)
    load, start, end = (elf.address(name) for name in ("__hil_data_load", "__hil_data_start", "__hil_data_end"))
    assert load in FLASH and load + (end - start) <= FLASH.stop
    assert start in SRAM and end <= SRAM.stop
    data = elf.sections[".data"]
    if data["sh_size"]:
        assert (data["sh_addr"], load) in elf.loads
