"""Sealed cache entries (harness/cache.py): a damaged entry of each kind is noticed, said, and rebuilt.

The mechanism first with a build function that counts its calls, then each real user: the golden
outputs, the host engine, the built-model cache and the firmware image. Every damage here is an
injected fault; tests/fault_tally.py counts them for the closing table of issue 14."""

from __future__ import annotations

import shutil

import fault_tally
import numpy as np
import pytest

from harness import cache
from harness.cache import MANIFEST, cached_entry
from harness.errors import HilError


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))


def counting_build(calls: list[int], content: bytes = b"payload " * 100):
    def build(folder):
        calls.append(1)
        (folder / "data.bin").write_bytes(content)
        (folder / "sub").mkdir()
        (folder / "sub" / "more.txt").write_text("more")

    return build


def test_an_entry_is_built_once_then_reused(capsys):
    calls: list[int] = []
    first = cached_entry("things", "one", counting_build(calls))
    second = cached_entry("things", "one", counting_build(calls))
    assert (first.reused, second.reused, second.path, len(calls)) == (False, True, first.path, 1)
    assert sorted(p.name for p in first.path.parent.iterdir()) == ["one"]  # no staging left
    assert capsys.readouterr().err == ""


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def replace_same_size(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGES = {
    "truncated": (lambda entry: truncate(entry / "data.bin"), "data.bin does not match its checksum"),
    "one bit flipped": (lambda entry: replace_same_size(entry / "data.bin"), "data.bin does not match its checksum"),
    "file deleted": (lambda entry: (entry / "sub" / "more.txt").unlink(), "sub/more.txt is missing"),
    "manifest deleted": (lambda entry: (entry / MANIFEST).unlink(), "no readable checksum manifest"),
    "manifest garbled": (lambda entry: (entry / MANIFEST).write_text("nonsense\n"),
                         "manifest line 'nonsense' is not '<sha256>  <file>'"),
    "file added": (lambda entry: (entry / "stray.o").write_bytes(b"x"), "stray.o is not in the manifest"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_entry_is_rebuilt_with_a_note(capsys, damage):
    inflict, problem = DAMAGES[damage]
    calls: list[int] = []
    entry = cached_entry("things", "one", counting_build(calls))
    inflict(entry.path)
    again = cached_entry("things", "one", counting_build(calls))
    err = capsys.readouterr().err
    assert len(calls) == 2 and not again.reused and again.path == entry.path
    assert f"note: the cached things entry one is damaged ({problem}); rebuilding it" in err
    assert cache.damage(again.path) is None and (again.path / "data.bin").read_bytes() == b"payload " * 100
    assert sorted(p.name for p in again.path.parent.iterdir()) == ["one"]  # the damaged copy is gone
    fault_tally.record("cache: damaged entry (unit)", 1)


def test_a_failed_build_leaves_nothing_and_says_why():
    def failing(folder):
        (folder / "half").write_bytes(b"half")
        raise HilError("the compiler failed")

    with pytest.raises(HilError, match="the compiler failed"):
        cached_entry("things", "one", failing)
    assert list(cache.cache_dir("things").iterdir()) == []


def test_an_unwritable_cache_names_the_fix(monkeypatch, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("HIL_CACHE_DIR", str(blocker))
    with pytest.raises(HilError, match="cannot use HIL_CACHE_DIR .* for the things cache .*point HIL_CACHE_DIR at"):
        cached_entry("things", "one", counting_build([]))


# --- each real kind of entry ------------------------------------------------------------------


def only_entry(kind: str):
    (entry,) = [p for p in cache.cache_dir(kind).iterdir()]
    return entry


def test_a_damaged_golden_file_is_recomputed_never_judged_against(capsys, example_model_path):
    from harness.parity.golden import GOLDEN_FILE, GoldenModel, golden_outputs

    reference = GoldenModel(example_model_path)
    inputs = np.random.default_rng(3).integers(-128, 128, (3, *reference.input_shape), dtype=np.int8)
    truth = reference.run(inputs)
    assert np.array_equal(golden_outputs(example_model_path, inputs), truth)
    golden = only_entry("golden") / GOLDEN_FILE
    injections = 0
    for damage in (truncate, lambda path: np.save(path, np.zeros_like(truth))):  # cut short; a valid wrong file
        damage(golden)
        injections += 1
        assert np.array_equal(golden_outputs(example_model_path, inputs), truth)
        assert "note: the cached golden entry" in capsys.readouterr().err
    fault_tally.record("cache: damaged golden outputs", injections)


def test_a_damaged_host_engine_is_rebuilt(capsys, example_compiled, example_model_path):
    from harness.build.host_engine import HostEngine
    from harness.parity.golden import GoldenModel

    reference = GoldenModel(example_model_path)
    inputs = np.random.default_rng(4).integers(-128, 128, (2, *reference.input_shape), dtype=np.int8)
    engine = HostEngine.build(example_compiled)
    engine.executable.write_bytes(b"#!/bin/sh\nexit 0\n")  # an executable that answers nothing
    engine = HostEngine.build(example_compiled)
    assert "note: the cached host entry example-" in capsys.readouterr().err
    outputs, _ = engine.run(inputs)
    assert np.array_equal(outputs.reshape(2, -1), reference.run(inputs).reshape(2, -1))
    library = next(p for p in cache.cache_dir("host").iterdir() if p.name.startswith("kernels-"))
    truncate(library / "libhilkernels.a")
    HostEngine.build(example_compiled)
    assert f"note: the cached host entry {library.name} is damaged" in capsys.readouterr().err
    fault_tally.record("cache: damaged host engine", 2)


def test_a_damaged_built_model_is_rebuilt(capsys, monkeypatch):
    from harness.models import yamnet256

    monkeypatch.setattr(yamnet256, "_tensorflow_versions", lambda: "tensorflow-fake")
    monkeypatch.setattr(yamnet256, "build_yamnet256", lambda num_classes, seed: b"model bytes")
    path = yamnet256.built_model_path(num_classes=3, seed=1)
    path.write_bytes(b"model")
    assert yamnet256.built_model_path(num_classes=3, seed=1).read_bytes() == b"model bytes"
    assert "note: the cached models entry yamnet256-int8-classes3-seed1" in capsys.readouterr().err
    fault_tally.record("cache: damaged built model", 1)


def loaded_code(elf_path) -> bytes:
    """What the image puts in the device's memory: the bytes of its loadable segments."""
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as stream:
        elf = ELFFile(stream)
        return b"".join(segment.data() for segment in elf.iter_segments() if segment["p_type"] == "PT_LOAD")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_a_damaged_firmware_image_is_rebuilt_not_reused(capsys, example_compiled):
    from harness.build.firmware import build_firmware
    from harness.targets import load_target

    target = load_target("qemu-m33")
    image = build_firmware(example_compiled, target)
    intact = loaded_code(image.path)
    truncate(image.path)
    again = build_firmware(example_compiled, target)
    assert not again.reused and loaded_code(again.path) == intact  # debug info names the staging folder
    note = f"note: the cached firmware entry {image.path.parent.name} is damaged (firmware.elf"
    assert note in capsys.readouterr().err
    assert build_firmware(example_compiled, target).reused
    fault_tally.record("cache: damaged firmware image", 1)
