"""The image's footprint, read from its ELF, agrees with the compiler's plan and fits the target."""

from harness.footprint import read_footprint


def test_footprint_matches_the_plan_and_fits(hil_firmware, hil_compiled, hil_target, record_property):
    footprint = read_footprint(hil_firmware.path, hil_compiled.name)
    assert footprint.arena_bytes == hil_compiled.plan.arena_size
    assert footprint.weights_bytes >= hil_compiled.weights_bytes
    if hil_target.ram_bytes:
        assert footprint.ram_bytes <= hil_target.ram_bytes
    if hil_target.flash_bytes:
        assert footprint.flash_bytes <= hil_target.flash_bytes
    for key in ("flash_bytes", "ram_bytes", "weights_bytes", "arena_bytes"):
        record_property(key, getattr(footprint, key))
