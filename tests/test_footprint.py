"""The footprint by owner (harness/build/footprint.py) on real builds of the example model: the tree
accounts for every byte of the ELF on both targets, the arena and weights are the compiler's, and a
kernel that grows moves the engine line and nothing else."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

import harness.build.firmware as firmware
import harness.build.sources as sources
from harness.build.firmware import build_firmware
from harness.build.footprint import FLASH_KEYS, RAM_KEYS, measure_footprint, owner_of, read_map
from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.errors import HilError
from harness.paths import FIRMWARE_DIR, PROJECT_ROOT
from harness.targets import load_target

from example_model import example_model

HAVE_ARM = shutil.which("arm-none-eabi-gcc") is not None
TARGETS = [
    "host",
    pytest.param("qemu-m33", marks=pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")),
]
AN505_RAM = range(0x38000000, 0x38000000 + 768 * 1024)  # mps2-an505.ld: RAM and STACK regions
HOST_RELRO = {".init_array", ".fini_array", ".data.rel.ro", ".dynamic", ".got"}  # read-only once relocated


@pytest.fixture(scope="module")
def model():
    return compile_graph(parse_model(example_model(), "example.tflite"), "example")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def isolated_cache(cache, monkeypatch):
    monkeypatch.setenv("HIL_CACHE_DIR", str(cache))


@pytest.fixture
def image(request, model, isolated_cache):
    return build_firmware(model, load_target(request.param))


def elf_sections(path: Path) -> list[tuple[str, int, int, bool, bool]]:
    """(name, address, size, has contents, writable) of every allocated section, read here
    independently of harness/build/footprint.py."""
    with open(path, "rb") as f:
        return [
            (s.name, s["sh_addr"], s["sh_size"], s["sh_type"] != "SHT_NOBITS", bool(s["sh_flags"] & SH_FLAGS.SHF_WRITE))
            for s in ELFFile(f).iter_sections() if s["sh_flags"] & SH_FLAGS.SHF_ALLOC
        ]


def elf_totals(image) -> tuple[int, int]:
    sections = elf_sections(image.path)
    flash = sum(size for _, _, size, contents, _ in sections if contents)
    if image.target.is_native:
        ram = sum(size for name, _, size, contents, writable in sections
                  if writable and (not contents or name not in HOST_RELRO))
    else:
        ram = sum(size for _, address, size, _, _ in sections if address in AN505_RAM)
    return flash, ram


def weights_symbols(path: Path) -> int:
    """Bytes of the symbols the generated code placed in .hil_weights."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == ".hil_weights")
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        return sum(s["st_size"] for s in symtab.iter_symbols()
                   if s["st_shndx"] == index and s["st_info"]["type"] == "STT_OBJECT")


def docs_footprint_example() -> dict:
    text = (PROJECT_ROOT / "docs" / "results.md").read_text()
    return json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))["footprint"]


def shape(value):
    return {k: shape(v) for k, v in value.items()} if isinstance(value, dict) else None


@pytest.mark.parametrize("image", TARGETS, indirect=True)
def test_the_tree_sums_exactly_to_the_elf_totals(image, model):
    stack = None if image.target.is_native else 900
    footprint = measure_footprint(image, stack)
    flash, ram = elf_totals(image)
    assert (footprint.elf_flash, footprint.elf_ram) == (flash, ram)
    assert sum(footprint.tree["flash"].values()) == flash
    assert sum(v for v in footprint.tree["ram"].values() if v is not None) == ram
    assert all(isinstance(v, int) and v >= 0 for v in footprint.tree["flash"].values())
    # The per-object view accounts for the same bytes (.data counts once in each memory).
    assert sum(f for f, _ in footprint.objects.values()) == flash
    assert sum(r for _, r in footprint.objects.values()) + footprint.stack_reserved == ram
    json_block = footprint.to_json()
    assert shape(json_block) == shape(docs_footprint_example())
    assert list(json_block["tree"]["flash"]) == list(FLASH_KEYS) and list(json_block["tree"]["ram"]) == list(RAM_KEYS)
    json.dumps(json_block, allow_nan=False)


@pytest.mark.parametrize("image", TARGETS, indirect=True)
def test_arena_and_weights_are_the_compilers(image, model):
    footprint = measure_footprint(image, None)
    assert footprint.activation_ram == footprint.tree["ram"]["arena"] == model.plan.arena_size
    assert footprint.weights_flash == footprint.tree["flash"]["weights"]
    assert weights_symbols(image.path) == model.weights_bytes
    # The section adds only the alignment of its arrays (4 bytes each) to the compiled constants.
    assert model.weights_bytes <= footprint.weights_flash < model.weights_bytes + 4 * len(model.calls) * 4
    assert footprint.code_flash == footprint.tree["flash"]["model_code"] + footprint.tree["flash"]["engine_code"]
    assert footprint.total_flash == footprint.weights_flash + footprint.code_flash
    for owner in ("model_code", "engine_code", "harness", "board", "libc"):
        assert footprint.tree["flash"][owner] > 0, owner


@pytest.mark.parametrize("image", TARGETS, indirect=True)
def test_every_object_of_the_build_has_its_owner(image):
    sources = {entry.source for entries in read_map(image.map_file).values() for entry in entries if entry.source}
    ours = {Path(s).name for s in sources if s.startswith("objects/")}
    assert {owner_of(f"objects/{name}") for name in ours} == {"model", "engine", "harness", "board"}
    assert "objects/model__example.o" in sources and "objects/kernels__conv.o" in sources
    assert "objects/app__commands.o" in sources and "objects/bsp__board.o" in sources
    assert all(owner_of(s) == "libc" for s in sources - {f"objects/{n}" for n in ours})
    if image.target.is_native:
        # The shared C library is not in the image: only crt objects and the linker's tables are.
        assert not any(".so" in s for s in sources)


@pytest.mark.skipif(not HAVE_ARM, reason="arm-none-eabi-gcc is not installed")
@pytest.mark.parametrize("image", ["qemu-m33"], indirect=True)
def test_the_stack_lines_split_the_reservation(image):
    measured = measure_footprint(image, 900)
    data = measured.tree["ram"]["model_data"] + measured.tree["ram"]["engine_data"]
    assert measured.stack_reserved == 16 * 1024
    assert (measured.tree["ram"]["stack_used"], measured.tree["ram"]["stack_unused"]) == (900, 16 * 1024 - 900)
    assert measured.runtime_ram == data + 900 and measured.stack_bytes == 900
    assert measured.total_ram == measured.activation_ram + measured.runtime_ram
    unknown = measure_footprint(image, None)
    assert (unknown.runtime_ram, unknown.total_ram, unknown.stack_bytes) == (None, None, None)
    assert (unknown.tree["ram"]["stack_used"], unknown.tree["ram"]["stack_unused"]) == (None, None)
    assert sum(v for v in unknown.tree["ram"].values() if v is not None) + unknown.stack_reserved == unknown.elf_ram
    with pytest.raises(HilError, match="exceeds the 16384-byte .stack section"):
        measure_footprint(image, 16 * 1024 + 4)


@pytest.mark.parametrize("image", ["host"], indirect=True)
def test_a_native_image_reserves_no_stack(image):
    footprint = measure_footprint(image, None)
    assert footprint.stack_reserved == 0
    assert (footprint.tree["ram"]["stack_used"], footprint.tree["ram"]["stack_unused"]) == (None, 0)
    assert footprint.runtime_ram is None
    with pytest.raises(HilError, match="reserves no stack"):
        measure_footprint(image, 512)


@pytest.mark.parametrize("image", TARGETS, indirect=True)
def test_a_missing_or_foreign_map_is_refused(image, model):
    with pytest.raises(HilError, match="no linker map beside the image"):
        measure_footprint(dataclasses.replace(image, map_file=None), None)
    if not HAVE_ARM:
        return
    other = build_firmware(model, load_target("qemu-m33" if image.target.is_native else "host"))
    with pytest.raises(HilError, match="is the map from this image"):
        measure_footprint(dataclasses.replace(image, map_file=other.map_file), None)


# 64 bytes in the conv object's first input section (check_packed's, referenced, so the linker
# keeps it): a multiple of every alignment in the image, so nothing after it changes its padding.
# GCC emits a top-level asm before the functions, so the section it names comes first in the
# object: naming the section that is first anyway keeps the object's order (naming a later one
# would move it to the front, and the next object's padding would then follow its new end,
# which the size-optimised kernels' 1- or 2-byte alignment does not absorb). The bytes sit
# before the function's code and are never executed.
GROW_CONV = '\n__asm__(".section .text.check_packed,\\"ax\\"\\n\\t.space 64\\n\\t.previous");\n'


@pytest.fixture
def grown_firmware(tmp_path, monkeypatch):
    """A copy of firmware_stub/ whose conv kernel is 64 bytes bigger, used by the build."""
    copy = tmp_path / "firmware_stub"
    shutil.copytree(FIRMWARE_DIR, copy)
    conv = copy / "kernels" / "conv.c"
    conv.write_text(conv.read_text() + GROW_CONV)
    monkeypatch.setattr(firmware, "FIRMWARE_DIR", copy)
    monkeypatch.setattr(firmware, "KERNELS_DIR", copy / "kernels")
    monkeypatch.setattr(sources, "KERNELS_DIR", copy / "kernels")
    monkeypatch.setattr(firmware, "APP_DIR", copy / "app")
    monkeypatch.setattr(firmware, "BSP_ROOT", copy / "bsp")


@pytest.mark.parametrize("target", TARGETS)
def test_a_bigger_kernel_moves_only_the_engine_line(target, model, isolated_cache, request):
    stack = None if target == "host" else 900
    before = measure_footprint(build_firmware(model, load_target(target)), stack)
    request.getfixturevalue("grown_firmware")
    grown_image = build_firmware(model, load_target(target))
    assert "firmware_stub/kernels/conv.c" in (grown_image.path.parent / "build.log").read_text()
    after = measure_footprint(grown_image, stack)
    moved = {
        (memory, key): after.tree[memory][key] - before.tree[memory][key]
        for memory in ("flash", "ram") for key in before.tree[memory]
        if after.tree[memory][key] != before.tree[memory][key]
    }
    assert moved == {("flash", "engine_code"): 64}
    assert after.elf_flash - before.elf_flash == 64 and after.elf_ram == before.elf_ram
    assert after.code_flash - before.code_flash == 64
    assert after.objects["objects/kernels__conv.o"][0] - before.objects["objects/kernels__conv.o"][0] == 64


def test_the_map_parser_reads_wrapped_names_fill_and_relaxing(tmp_path):
    path = tmp_path / "firmware.map"
    path.write_text(
        "Discarded input sections\n\n .text 0x0 0x10 objects/app__gone.o\n\n"
        "Linker script and memory map\n\nLOAD objects/app__main.o\n\n"
        ".text           0x10000000       0x40\n"
        " *(.text .text.*)\n"
        " .text.a_very_long_function_name\n"
        "                0x10000000       0x1e objects/kernels__conv.o\n"
        "                0x10000000                hil_conv_s8\n"
        " *fill*         0x1000001e        0x2 \n"
        " .text          0x10000020       0x20 /usr/lib/libc_nano.a(lib_a-memcpy.o)\n"
        "                                 0x24 (size before relaxing)\n"
        " .text.unused\n"
        " *(.glue_7)\n"
        ".data           0x38000000        0x4 load address 0x10000040\n"
        " .data.x        0x38000000        0x4 objects/model__m.o\n"
        "OUTPUT(firmware.elf elf32-littlearm)\n"
    )
    sections = read_map(path)
    assert [(e.section, e.address, e.size, e.source) for e in sections[".text"]] == [
        (".text.a_very_long_function_name", 0x10000000, 0x1E, "objects/kernels__conv.o"),
        ("*fill*", 0x1000001E, 2, ""),
        (".text", 0x10000020, 0x20, "/usr/lib/libc_nano.a(lib_a-memcpy.o)"),
    ]
    assert [(e.section, e.source) for e in sections[".data"]] == [(".data.x", "objects/model__m.o")]
    assert [owner_of(s) for s in ("objects/model__m.o", "objects/kernels__conv.o", "objects/app__main.o",
                                  "objects/bsp__startup.o", "/usr/lib/libc_nano.a(lib_a-memcpy.o)",
                                  "linker stubs")] == ["model", "engine", "harness", "board", "libc", "libc"]
