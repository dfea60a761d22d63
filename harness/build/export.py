"""`hil build`: a target's firmware image for a model, written out with its footprint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.build.firmware import IMAGE_NAME, MAP_NAME, FirmwareImage
from harness.build.footprint import Footprint
from harness.errors import HilError
from harness.io import write_atomically

FOOTPRINT_FILE = "footprint.json"


def check_image_fits(footprint: Footprint, image: FirmwareImage) -> None:
    """Refuse an image larger than the target's memories (the linker script caps them too)."""
    target = image.target
    problems = [
        f"{what} needs {used} bytes, the target has {capacity}"
        for what, used, capacity in (("flash", footprint.elf_flash, target.flash_bytes),
                                     ("RAM", footprint.elf_ram, target.ram_bytes))
        if capacity and used is not None and used > capacity
    ]
    if problems:
        raise HilError(f"the image for {image.model.name} does not fit target {target.id}: {'; '.join(problems)}")


def write_build(image: FirmwareImage, footprint: Footprint, out_dir: Path) -> list[Path]:
    """Copy the ELF and its linker map into out_dir and write footprint.json beside them."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise HilError(f"-o {out_dir}: is a file, expected a folder for the image")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HilError(f"-o {out_dir}: cannot create it ({exc.strerror})") from None
    written = []
    for source in (image.path, image.map_file):
        if source is not None:
            destination = out_dir / Path(source).name
            write_atomically(destination, lambda tmp, source=source: shutil.copyfile(source, tmp))
            written.append(destination)
    record = {
        "target": image.target.id,
        "model_name": image.model.name,
        "model_sha256": image.model.graph.sha256,
        "build_id": image.build_id,
        "capacity": {"flash": image.target.flash_bytes or None, "ram": image.target.ram_bytes or None},
        "footprint": footprint.to_json(),
    }
    path = out_dir / FOOTPRINT_FILE
    write_atomically(path, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
    written.append(path)
    return written


__all__ = ["FOOTPRINT_FILE", "IMAGE_NAME", "MAP_NAME", "check_image_fits", "write_build"]
