"""Int8 models with float32 input and output (a QUANTIZE first, a DEQUANTIZE last, as the TFLite
converter leaves them by default) run in `hil bench` and the hil suite like int8-input models:
float patches streamed, the QUANTIZE on the device, float outputs compared byte for byte, the int8
tensor before the DEQUANTIZE reported beside them."""

from __future__ import annotations

import numpy as np
import pytest
from float_io import with_float_io

from harness.audio.patches import structured_schedule, synthetic_log_mel_patches
from harness.audio.quantization import dequantize, quantize
from harness.cli import main
from harness.compiler import compile_file
from harness.compiler.graph import parse_model
from harness.errors import HilError
from harness.inputs import input_quantization, reference_patches
from harness.parity.metrics import dequantized_source, int8_before_dequantize, parity_metrics
from harness.paths import PROJECT_ROOT
from harness.results.schema import load_run

from tflite_builder import ModelBuilder

pytest_plugins = ["pytester"]
HIL_SUITE = PROJECT_ROOT / "tests" / "hil"
PATCHES = 6


@pytest.fixture(scope="module")
def float_io_path(tmp_path_factory, default_model_path):
    """The project's Yamnet-256 behind a float32 input and output."""
    path = tmp_path_factory.mktemp("float-io") / "yamnet256_float_io.tflite"
    path.write_bytes(with_float_io(default_model_path.read_bytes()))
    return path


@pytest.fixture(scope="module")
def float_io_compiled(float_io_path):
    return compile_file(float_io_path)


def test_the_float_model_quantizes_its_input_as_the_int8_model_takes_it(float_io_compiled, default_model_path):
    graph = float_io_compiled.graph
    assert graph.tensor(graph.inputs[0]).dtype == "float32" and float_io_compiled.calls[0].op.kind == "QUANTIZE"
    int8_graph = compile_file(default_model_path).graph
    theirs, ours = input_quantization(int8_graph), input_quantization(graph)
    assert (float(ours.scale[0]), int(ours.zero_point[0])) == (float(theirs.scale[0]), int(theirs.zero_point[0]))


def test_a_float_input_nothing_quantizes_is_refused_by_name():
    b = ModelBuilder()
    x, y = b.tensor([1, 4], "float32"), b.tensor([1, 4], "float32")
    b.op("RELU", [x], [y])
    with pytest.raises(HilError, match="this model's input is float32 and no QUANTIZE reads it"):
        input_quantization(parse_model(b.build([x], [y])))


def test_float_reference_patches_are_the_int8_kinds_in_float(float_io_compiled):
    graph = float_io_compiled.graph
    quant = input_quantization(graph)
    scale, zero_point = float(quant.scale[0]), int(quant.zero_point[0])
    patches = reference_patches(graph, 12)
    assert patches.dtype == np.float32 and patches.shape == (12, 1, 64, 96, 1)
    np.testing.assert_array_equal(patches, reference_patches(graph, 12))  # deterministic
    schedule = structured_schedule((1, 64, 96, 1), 12, scale, zero_point)
    by_kind = {kind: patches[schedule.index(kind)] for kind in schedule}  # the first of each kind
    # The extremes lie beyond the int8 range, so the device's QUANTIZE saturates.
    assert set(quantize(by_kind["all_min"], scale, zero_point).ravel()) == {-128}
    assert set(quantize(by_kind["all_max"], scale, zero_point).ravel()) == {127}
    assert by_kind["all_min"].max() < dequantize(np.int8(-128), scale, zero_point)
    # Ramps and random inputs lie between the int8 steps, so the device's rounding decides them.
    for kind in ("ramp_horizontal", "ramp_diagonal", "uniform_random"):
        grid = dequantize(quantize(by_kind[kind], scale, zero_point), scale, zero_point)
        assert np.mean(grid != by_kind[kind]) > 0.9, kind
    # The random ones reach every int8 value, and beyond.
    assert set(quantize(by_kind["uniform_random"], scale, zero_point).ravel()) == set(range(-128, 128))
    assert by_kind["uniform_random"].max() > dequantize(np.int8(127), scale, zero_point)
    # The log-mel kind is the synthetic patch before quantization.
    np.testing.assert_array_equal(by_kind["log_mel"].reshape(64, 96), synthetic_log_mel_patches(1, 0)[0])
    # The grid kinds are the real values of their int8 patterns.
    np.testing.assert_array_equal(by_kind["all_zero_point"], np.zeros_like(by_kind["all_zero_point"]))


@pytest.mark.parametrize("scale, zero_point", [(0.00390625, -128), (0.0564, 35), (1e-5, 0), (3.7, 127)])
def test_the_int8_before_dequantize_is_recovered_exactly_and_off_grid_floats_are_caught(scale, zero_point):
    b = ModelBuilder()
    x = b.tensor([1, 256], "int8", scale, zero_point)
    y = b.tensor([1, 256], "float32")
    b.op("DEQUANTIZE", [x], [y])
    source = parse_model(b.build([x], [y])).tensor(x)
    every = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    floats = dequantize(every, scale, zero_point)
    values, on_grid = int8_before_dequantize(floats, source)
    np.testing.assert_array_equal(values, every)
    assert on_grid.all()
    nudged = floats.copy()
    nudged[0, 7] = np.nextafter(nudged[0, 7], np.float32(np.inf))
    assert not int8_before_dequantize(nudged, source)[1][0]
    nan = floats.copy()
    nan[0, 0] = np.nan
    assert not int8_before_dequantize(nan, source)[1][0]


def test_parity_reports_the_int8_tensor_beside_the_float_outputs(float_io_compiled):
    source = dequantized_source(float_io_compiled)
    assert source is not None and source.dtype == "int8"
    golden = dequantize(np.array([[[-128, -100, 0, 5, 127, 3, 3, 3, 3, 3]], [[1] * 10]], np.int8),
                        float(source.quant.scale[0]), int(source.quant.zero_point[0]))
    device = golden.copy()
    device[1, 0, 2] = dequantize(np.int8(4), float(source.quant.scale[0]), int(source.quant.zero_point[0]))
    metrics = parity_metrics(device, golden, float_io_compiled, 0)
    assert metrics["exact_patches"] == 1
    assert metrics["before_dequantize"] == {"exact_patches": 1, "max_abs_diff_lsb": 3, "off_grid_patches": 0}


def bench_float_io(capsys, model, target, results):
    code = main(["bench", "--target", target, "--model", str(model), "--patches", str(PATCHES),
                 "--timing-runs", "2", "--results-dir", str(results)])
    out, err = capsys.readouterr()
    assert code == 0, err
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    return load_run(run_dir), run_dir, out


@pytest.mark.slow
@pytest.mark.parametrize("target", ["host", "qemu-m33"])
def test_hil_bench_runs_a_float_input_float_output_model_bit_exact(capsys, tmp_path, float_io_path, float_io_compiled,
                                                                   target):
    record, run_dir, out = bench_float_io(capsys, float_io_path, target, tmp_path / "results")
    parity = record["parity"]
    assert parity["exact_patches"] == parity["patches"] == PATCHES
    assert parity["before_dequantize"] == {"exact_patches": PATCHES, "max_abs_diff_lsb": 0, "off_grid_patches": 0}
    env = record["environment"]
    graph = float_io_compiled.graph
    classes = graph.tensor(graph.outputs[0]).shape[-1]
    assert env["input"] == {"dtype": "float32", "shape": [1, 64, 96, 1]}
    assert env["output"] == {"dtype": "float32", "shape": [1, classes]}
    assert record["throughput"]["bytes_per_patch"] == 64 * 96 * 4
    assert record["latency"]["per_layer"][0]["operator"] == "QUANTIZE" and record["latency"]["median"] > 0
    assert record["footprint"]["activation_ram"] > 0 and record["footprint"]["weights_flash"] > 0
    if target == "qemu-m33":
        assert record["footprint"]["runtime_ram"] > 0  # the stack, measured on the device
    with np.load(run_dir / "outputs.npz") as saved:
        assert saved["inputs"].dtype == np.float32 and saved["device"].dtype == np.float32
    report = (run_dir / "report.md").read_text()
    assert f"input float32 [1, 64, 96, 1], output float32 [1, {classes}]" in report
    assert "patches/s of float32 input (24576 B each)" in report
    assert f"before the final DEQUANTIZE: {PATCHES}/{PATCHES} patches bit-exact" in report
    assert f"{PATCHES}/{PATCHES} patches bit-exact" in out


@pytest.mark.slow
@pytest.mark.parametrize("target, outcomes", [("host", {"passed": 3, "skipped": 2}), ("qemu-m33", {"passed": 5})])
def test_the_hil_suite_runs_a_float_input_float_output_model(pytester, tmp_path, float_io_path, target, outcomes):
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", HIL_SUITE, f"--target={target}", f"--model={float_io_path}",
        f"--patches={PATCHES}", f"--results-dir={tmp_path / 'results'}", timeout=600)
    result.assert_outcomes(**outcomes)
    (folder,) = (tmp_path / "results").iterdir()
    with np.load(folder / "yamnet256_float_io_outputs.npz") as saved:
        assert saved["inputs"].dtype == np.float32
        np.testing.assert_array_equal(saved["device"], saved["golden"])


def test_a_run_recorded_before_io_types_were_kept_still_reports():
    from harness.results.report import io_text, link_text

    record = {"environment": {}, "throughput": {"patches_per_second": 2.5}}
    assert io_text(record) == "input and output types not recorded"
    assert link_text(record) == "2.50 patches/s"


def test_hil_accuracy_streams_float_log_mel_patches_to_a_float_input_model(capsys, tmp_path, float_io_path,
                                                                          default_model_path):
    from harness.audio.demo import demo_dataset

    demo = demo_dataset(tmp_path / "demo")
    results = {}
    for name, model in (("int8", default_model_path), ("float", float_io_path)):
        code = main(["accuracy", "--target", "host", "--model", str(model), "--dataset", str(demo),
                     "--results-dir", str(tmp_path / name)])
        _, err = capsys.readouterr()
        assert code == 0, err
        (run_dir,) = [p for p in (tmp_path / name).iterdir() if p.is_dir()]
        results[name] = load_run(run_dir), run_dir
    (record, run_dir), (int8_record, _) = results["float"], results["int8"]
    assert record["environment"]["input"]["dtype"] == "float32"
    block = record["accuracy"]
    assert block["agreement"] == 1.0 and block["device"] == block["golden"]
    assert record["parity"]["exact_patches"] == record["parity"]["patches"] == block["patches"]
    with np.load(run_dir / "outputs.npz") as saved:
        assert saved["inputs"].dtype == np.float32
        quant = input_quantization(compile_file(float_io_path).graph)
        scale, zero_point = float(quant.scale[0]), int(quant.zero_point[0])
        with np.load(results["int8"][1] / "outputs.npz") as int8_saved:
            # The device's QUANTIZE sees what the int8 model was given already quantized.
            np.testing.assert_array_equal(quantize(saved["inputs"], scale, zero_point), int8_saved["inputs"])
            np.testing.assert_array_equal(saved["device"], int8_saved["device"])
    assert block["device"] == int8_record["accuracy"]["device"]
