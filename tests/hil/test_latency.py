"""Latency in the target's own unit: cycles on a board, instructions on QEMU, ns on the host."""

import json

import pytest

from harness.compiler.codegen import layer_name


def test_timing_run_counts_every_layer(hil_device, hil_patches, hil_target, hil_compiled, hil_config, record_property):
    timing = hil_device.time(hil_patches[-1], hil_config.timing_runs)
    assert timing.unit == hil_target.timer_unit
    assert len(timing.totals) == hil_config.timing_runs and min(timing.totals) > 0
    assert len(timing.per_layer) == len(hil_compiled.calls)
    # Layers are counted inside the inference, so together they cannot exceed it.
    assert sum(timing.per_layer) <= timing.totals[-1]
    totals = sorted(timing.totals)
    record_property("latency_unit", timing.unit)
    record_property("latency_median", totals[len(totals) // 2])
    record_property("latency_min", totals[0])
    record_property("latency_max", totals[-1])
    names = [layer_name(call) for call in hil_compiled.calls]
    record_property("latency_per_layer", json.dumps(dict(zip(names, timing.per_layer))))


def test_instruction_counts_repeat_exactly(hil_device, hil_patches, hil_target, hil_config):
    if hil_target.timer_unit != "instructions":
        pytest.skip(f"{hil_target.id} counts {hil_target.timer_unit}, which vary run to run")
    first = hil_device.time(hil_patches[-1], hil_config.timing_runs)
    second = hil_device.time(hil_patches[-1], hil_config.timing_runs)
    assert set(first.totals) == set(second.totals) and len(set(first.totals)) == 1
    assert first.per_layer == second.per_layer
