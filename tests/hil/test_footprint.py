"""The image's footprint by owner (docs/results.md): read from the ELF and its linker map, with the
stack high-water mark of one inference measured on the device; it agrees with the compiler's plan,
accounts for every byte of the image, and fits the target."""

import json

import pytest

from harness.build.footprint import measure_footprint


def test_footprint_is_measured_and_accounts_for_every_byte(
    hil_device, hil_firmware, hil_compiled, hil_patches, hil_target, record_property
):
    stack = hil_device.measure_stack(hil_patches[-1])
    footprint = measure_footprint(hil_firmware, stack)
    # A native process' stack cannot be painted; every board and emulator measures its own.
    assert (stack is None) == hil_target.is_native
    if stack is not None:
        assert 0 < stack <= footprint.stack_reserved
        ram = footprint.tree["ram"]
        assert footprint.runtime_ram == ram["model_data"] + ram["engine_data"] + stack
        assert footprint.total_ram == footprint.activation_ram + footprint.runtime_ram
    else:
        assert footprint.runtime_ram is None and footprint.total_ram is None

    assert sum(footprint.tree["flash"].values()) == footprint.elf_flash
    ram_lines = sum(v for v in footprint.tree["ram"].values() if v is not None)
    assert ram_lines + (footprint.stack_reserved if stack is None else 0) == footprint.elf_ram
    assert footprint.activation_ram == footprint.tree["ram"]["arena"] == hil_compiled.plan.arena_size
    assert footprint.weights_flash >= hil_compiled.weights_bytes
    assert footprint.total_flash == footprint.weights_flash + footprint.code_flash
    if hil_target.ram_bytes:
        assert footprint.elf_ram <= hil_target.ram_bytes
    if hil_target.flash_bytes:
        assert footprint.elf_flash <= hil_target.flash_bytes

    figures = footprint.to_json()
    for key, value in figures.items():
        record_property(f"footprint_{key}", json.dumps(value) if isinstance(value, dict) else value)


def test_stack_measurement_repeats(hil_device, hil_patches, hil_target):
    if hil_target.is_native:
        pytest.skip(f"{hil_target.id} cannot measure its stack (a native process' stack is the OS's)")
    first = hil_device.measure_stack(hil_patches[-1])
    second = hil_device.measure_stack(hil_patches[-1])
    assert first is not None and first == second
