"""Build the firmware for a target: generated model + kernels + application + board support.

Builds are cached by everything that changes the binary (every source, the generated model,
the flags, the compiler's version, the build id), so a second run with nothing changed
reuses the image. Each build is a sealed cache entry (harness/cache.py): staged, checksummed,
renamed into place, and checked again whenever it is reused.

Each source is compiled to its own object, named after its owner (objects/app__commands.o,
objects/kernels__conv.o, objects/bsp__board.o, objects/model__<name>.o), then everything is
linked with a GNU ld map file (firmware.map) on every target: harness/build/footprint.py traces each
byte of the image to its owner through it. build.log has every command and its output.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.build.sources import FIRMWARE_CFLAGS, MODEL_CFLAGS, kernel_cflags, kernel_sources
from harness.cache import cached_entry
from harness.compiler import CompiledModel
from harness.compiler.codegen import c_string
from harness.errors import HilError
from harness.paths import FIRMWARE_DIR, KERNELS_DIR, PROJECT_ROOT
from harness.targets import Target

APP_DIR = FIRMWARE_DIR / "app"
BSP_ROOT = FIRMWARE_DIR / "bsp"
IMAGE_NAME = "firmware.elf"
MAP_NAME = "firmware.map"  # GNU ld map: every input section and the object it came from
OBJECTS_DIR = "objects"  # one object per source, named by object_name()
# Changes whenever the recipe (not the inputs) changes, so older cached builds are not reused.
BUILD_RECIPE = 3  # 2: one object per source, a map file on every target; 3: sealed with checksums


@dataclass(frozen=True)
class FirmwareImage:
    path: Path
    target: Target
    model: CompiledModel
    build_id: str
    map_file: Path | None
    reused: bool  # True when the cache already held this exact build


@lru_cache(maxsize=None)
def compiler_version(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.splitlines()[0].strip() if result.returncode == 0 and result.stdout else compiler


@lru_cache(maxsize=1)
def project_revision() -> str | None:
    """The project's git commit (with -dirty for local changes); None outside a checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, check=False, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def require_compiler(target: Target) -> str:
    if shutil.which(target.compiler) is None:
        packages = " ".join(target.compiler_packages) or target.compiler
        raise HilError(
            f"the compiler for target {target.id} ('{target.compiler}') is not installed; "
            f"install it with: sudo apt-get install {packages}"
        )
    return target.compiler


def bsp_folders(target: Target) -> list[Path]:
    """The board support a target's firmware is built from: the board's own folder, then the shared one."""
    folders = [BSP_ROOT / target.bsp]
    if target.bsp_shared is not None:
        folders.append(BSP_ROOT / target.bsp_shared)
    for folder in folders:
        if not folder.is_dir():
            raise HilError(
                f"target {target.id}: its board support (firmware_stub/bsp/{folder.name}) is not implemented yet"
            )
    return folders


def _sources(target: Target) -> list[Path]:
    bsp = [source for folder in bsp_folders(target) for source in sorted(folder.glob("*.c"))]
    sources = sorted(APP_DIR.glob("*.c")) + kernel_sources() + bsp
    objects = [object_name(source) for source in sources]
    clashes = sorted({name for name in objects if objects.count(name) > 1})
    if clashes:
        raise HilError(f"target {target.id}: two sources would compile to the same object: {', '.join(clashes)}")
    return sources


def _headers(target: Target) -> list[Path]:
    folders = (APP_DIR, KERNELS_DIR, BSP_ROOT, *bsp_folders(target))
    return sorted(p for folder in folders for p in folder.glob("*.h"))


def _linker_scripts(target: Target) -> list[Path]:
    """The board's linker script and the scripts it may INCLUDE from the board support folders."""
    if not target.linker_script:
        return []
    included = [p for folder in bsp_folders(target)[1:] for p in sorted(folder.glob("*.ld"))]
    return [BSP_ROOT / target.bsp / target.linker_script, *included]


def build_flags(target: Target) -> list[str]:
    """Every flag that shapes the image; they are part of the build id. A serial link's baud rate is
    compiled into the firmware, so it is one of them."""
    baud = [f"-DHIL_BAUD={target.baud}u"] if target.baud else []
    return [*FIRMWARE_CFLAGS, *target.cflags, *baud]


def build_id(target: Target) -> str:
    """What the device reports in its handshake: project revision, compiler and flags."""
    revision = project_revision() or "no-git-revision"
    return f"{revision} {compiler_version(target.compiler)} {' '.join(build_flags(target))}"


def _build_key(model: CompiledModel, target: Target, identity: str, inputs: list[Path]) -> str:
    digest = hashlib.sha256()
    for part in (BUILD_RECIPE, target.id, identity, *target.ldflags, *MODEL_CFLAGS, *(sorted(model.files.items()))):
        digest.update(repr(part).encode())
    for path in inputs:
        digest.update(str(path.relative_to(FIRMWARE_DIR)).encode() + b"\0" + path.read_bytes())
        digest.update(repr(kernel_cflags(path)).encode())
    return digest.hexdigest()[:20]


def object_name(source: Path) -> str:
    """The object a firmware source compiles to, named after its owner: app__commands.o,
    kernels__conv.o, bsp__board.o (the board's folders: its own and the shared one), model__<name>.o
    (the generated code, written outside firmware_stub/). The linker map names these, so
    harness/build/footprint.py can trace every byte of the image back to its owner by the prefix before '__'."""
    owner = {APP_DIR: "app", KERNELS_DIR: "kernels"}.get(source.parent)
    if owner is None:
        owner = "bsp" if source.parent.parent == BSP_ROOT else "model"
    return f"{owner}__{source.stem}.o"


def build_firmware(model: CompiledModel, target: Target) -> FirmwareImage:
    compiler = require_compiler(target)
    sources = _sources(target)
    folders = bsp_folders(target)
    linker_scripts = _linker_scripts(target)
    identity = build_id(target)
    inputs = sources + _headers(target) + linker_scripts
    name = f"{target.id}-{model.name}-{_build_key(model, target, identity, inputs)}"

    def build(staging: Path) -> None:
        model.write(staging)
        compile_flags = [
            *build_flags(target),
            "-I", str(KERNELS_DIR), "-I", str(BSP_ROOT),
            *(flag for folder in folders for flag in ("-I", str(folder))),
            # -iquote: the generated header is found by #include "..." only, never instead of a system header
            "-I", str(APP_DIR), "-iquote", str(staging),
            f'-DHIL_MODEL_HEADER="{model.name}.h"', f"-DHIL_MODEL={model.name}_model",
            f"-DHIL_TARGET_ID={c_string(target.id)}", f"-DHIL_BUILD_ID={c_string(identity)}",
            f"-DHIL_MODEL_INPUT_BYTES={_input_bytes(model)}u",
        ]
        # Commands run inside the staging folder with relative outputs, so the map names
        # objects/<owner>__<stem>.o whatever the folder is called once published.
        (staging / OBJECTS_DIR).mkdir()
        model_source = staging / f"{model.name}.c"
        units = [*sources, model_source]
        objects = [f"{OBJECTS_DIR}/{object_name(source)}" for source in units]
        compiles = [[compiler, *compile_flags, *(MODEL_CFLAGS if source == model_source else kernel_cflags(source)),
                     "-c", str(source), "-o", obj] for source, obj in zip(units, objects)]
        link = [compiler, *build_flags(target), *objects, "-o", IMAGE_NAME, f"-Wl,-Map={MAP_NAME}"]
        if linker_scripts:  # -L: where the board's script finds the shared ones it INCLUDEs
            link += [f"-T{linker_scripts[0]}", *(f"-L{folder}" for folder in folders[1:]), "-Wl,--gc-sections"]
        link += list(target.ldflags)
        log: list[str] = []
        with ThreadPoolExecutor(max_workers=min(len(compiles), os.cpu_count() or 1)) as pool:
            results = list(pool.map(lambda command: _run(command, staging), compiles))
        for command, result in zip(compiles, results):
            log.append(" ".join(command) + "\n" + result.stdout + result.stderr)
        errors = "".join(result.stderr for result in results if result.returncode != 0)
        if not errors:
            linked = _run(link, staging)
            log.append(" ".join(link) + "\n" + linked.stdout + linked.stderr)
            errors = linked.stderr if linked.returncode != 0 else ""
        (staging / "build.log").write_text("".join(log))
        if errors:
            raise HilError(
                f"building the firmware for {target.id} failed:\n{_tail(errors)}"
            )

    entry = cached_entry("firmware", name, build)
    map_file = entry.path / MAP_NAME
    return FirmwareImage(
        entry.path / IMAGE_NAME, target, model, identity, map_file if map_file.exists() else None, entry.reused
    )


def _run(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)


def _input_bytes(model: CompiledModel) -> int:
    """The application stages one input outside the arena; its buffer is sized at build time."""
    return model.graph.tensor(model.graph.inputs[0]).nbytes


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
