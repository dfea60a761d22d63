"""Per-target firmware builds: cached by what changes the binary, and laid out as the target needs."""

import shutil

import pytest

from harness.build.firmware import build_firmware
from harness.build.footprint import measure_footprint
from harness.compiler.compile import compile_graph
from harness.compiler.graph import parse_model
from harness.targets import load_target

from example_model import example_model


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path / "cache"))


def compiled(name="example"):
    return compile_graph(parse_model(example_model(), "example.tflite"), name)


def test_a_second_build_with_nothing_changed_is_reused(isolated_cache):
    target = load_target("host")
    first = build_firmware(compiled(), target)
    second = build_firmware(compiled(), target)
    assert not first.reused and second.reused and first.path == second.path
    renamed = build_firmware(compiled("renamed"), target)  # other generated code: another image
    assert not renamed.reused and renamed.path != first.path


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_the_emulator_image_keeps_weights_and_arena_where_the_footprint_looks(isolated_cache):
    model = compiled()
    image = build_firmware(model, load_target("qemu-m33"))
    footprint = measure_footprint(image, None)
    assert footprint.activation_ram == model.plan.arena_size
    assert footprint.weights_flash >= model.weights_bytes
    assert image.map_file is not None and ".hil_weights" in image.map_file.read_text()
    assert "arm-none-eabi-gcc" in image.build_id and "-mcpu=cortex-m33" in image.build_id
