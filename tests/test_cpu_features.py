"""The firmware says in its handshake which fast paths it was built with; the harness holds them
against the target's cpu_features, so a fast path that silently turned off is an error, not a
slower figure."""

from __future__ import annotations

import dataclasses

import pytest

from harness.device.board import Board
from harness.device.link.protocol import DeviceInfo, ProtocolMismatch
from harness.device.session import open_device
from harness.targets import load_target


@pytest.mark.parametrize("target", ["host", "qemu-m33"])
def test_an_image_reports_the_fast_paths_of_its_target(example_compiled, target):
    with open_device(example_compiled, Board(load_target(target))) as device:
        assert device.info.cpu_feature_names == tuple(sorted(load_target(target).cpu_features))


def test_an_image_built_without_its_dsp_path_is_refused_at_the_handshake(example_compiled):
    target = load_target("qemu-m33")
    # As a stray flag or a compiler without the feature would build it: the portable kernels only.
    without_dsp = dataclasses.replace(target, cflags=target.cflags + ("-U__ARM_FEATURE_DSP",))
    with pytest.raises(ProtocolMismatch) as refused:
        with open_device(example_compiled, Board(without_dsp)):
            pass
    assert "CPU features built for: device has ('fpu',), expected ('dsp', 'fpu')" in str(refused.value)


def test_unknown_feature_bits_are_named_as_such():
    info = DeviceInfo(*([0] * 7), cpu_features=0b1011, input=None, output=None, model_sha256="", target="",
                      build_id="")
    assert info.cpu_feature_names == ("dsp", "fpu", "unknown bits 0x8")
