"""When a patch differs from the golden, the harness names the first layer whose output differs and
by how much: the patch is run again on the device layer by layer (READ_LAYER) beside the reference
interpreter's intermediate tensors.

The device here is real (the host build and the emulator); the golden it is held against is the
reference interpreter on the same model with one layer's bias raised, so the layer that must be
named is known."""

from __future__ import annotations

import numpy as np
import pytest
from tflite_model_edit import edited

import harness.bench
from harness.cli import main
from harness.compiler import compile_file
from harness.compiler.codegen import layer_name
from harness.device.board import Board
from harness.device.session import open_device
from harness.parity.golden import GoldenModel, golden_outputs
from harness.parity.localize import first_difference, first_differing_patch
from harness.results.report import first_difference_text
from harness.results.schema import load_run
from harness.targets import load_target

from example_model import example_model

CHANGED_OPERATOR = 2  # the pointwise CONV_2D of the example model


def with_bias_raised(content: bytes, operator: int, by: int) -> bytes:
    """The model with every bias value of one operator raised by `by`."""
    def raise_bias(model) -> None:
        subgraph = model.subgraphs[0]
        buffer = model.buffers[subgraph.tensors[subgraph.operators[operator].inputs[2]].buffer]
        values = np.frombuffer(bytes(bytearray(buffer.data)), dtype=np.int32) + by
        buffer.data = np.frombuffer(values.astype(np.int32).tobytes(), dtype=np.uint8)

    return edited(content, raise_bias)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first-difference")
    ours, changed = folder / "example.tflite", folder / "example_bias_raised.tflite"
    ours.write_bytes(example_model())
    changed.write_bytes(with_bias_raised(example_model(), CHANGED_OPERATOR, 5000))
    return ours, changed


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(7).integers(-128, 128, (4, 1, 8, 6, 1), dtype=np.int8)


@pytest.mark.parametrize("target", ["host", "qemu-m33"])
def test_the_first_layer_that_differs_is_named_with_its_size(models, inputs, target):
    ours, changed = models
    compiled = compile_file(ours)
    golden = golden_outputs(changed, inputs)
    with open_device(compiled, Board(load_target(target))) as device:
        outputs = device.run(inputs).outputs
        patch = first_differing_patch(outputs, golden)
        assert patch is not None  # the raised bias shows in the output
        found = first_difference(device, compiled, changed, inputs, patch)
        same = first_difference(device, compiled, ours, inputs, patch)
    (call,) = [call for call in compiled.calls if call.op.index == CHANGED_OPERATOR]
    assert (found.layer, found.name, found.operator) == (compiled.calls.index(call), layer_name(call), "CONV_2D")
    reference = GoldenModel(changed, keep_intermediates=True)
    reference.invoke(inputs[patch])
    expected = reference.tensor(call.outputs[0])
    device_layer = GoldenModel(ours, keep_intermediates=True)
    device_layer.invoke(inputs[patch])
    ours_layer = device_layer.tensor(call.outputs[0])  # the device equals its own model's golden
    assert found.elements == expected.size
    assert found.differing_elements == int(np.count_nonzero(ours_layer != expected)) > 0
    assert found.max_abs_diff == float(np.abs(ours_layer.astype(int) - expected.astype(int)).max())
    # Against its own model's golden every layer is equal: said as such, not as a difference.
    assert same.layer is None
    assert "the difference did not repeat" in first_difference_text(same.to_json())


def test_hil_bench_records_and_reports_where_a_difference_starts(capsys, monkeypatch, models, tmp_path):
    ours, changed = models
    # The layer above is under test: bench is given the golden of the changed model (a fake golden),
    # for its outputs and for its intermediate tensors alike.
    monkeypatch.setattr(harness.bench, "golden_outputs", lambda _path, inputs: golden_outputs(changed, inputs))
    monkeypatch.setattr(harness.bench, "first_difference", lambda device, model, _path, inputs, patch:
                        first_difference(device, model, changed, inputs, patch))
    results = tmp_path / "results"
    code = main(["bench", "--target", "host", "--model", str(ours), "--patches", "6", "--results-dir", str(results)])
    out, _ = capsys.readouterr()
    assert code == 1
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    difference = load_run(run_dir)["parity"]["first_difference"]
    assert (difference["layer"], difference["operator"]) == (2, "CONV_2D") and difference["differing_elements"] > 0
    text = first_difference_text(difference)
    assert text.startswith(f"patch {difference['patch']} first differs at layer 2 op02_conv_2d (CONV_2D)")
    assert f"Where it starts: {text}." in (run_dir / "report.md").read_text()
    assert "first difference" in out
