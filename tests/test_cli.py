"""The `hil` command: outputs, exit codes, and a clear message (never a traceback) for bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from harness.cli import main
from harness.parity.golden import GoldenModel

from tflite_builder import ModelBuilder, options


def conv_model(in_shape=(1, 8, 8, 3), dtype="int8") -> bytes:
    rng = np.random.default_rng(7)
    quant = {"scale": 0.1, "zero_point": -3} if dtype == "int8" else {}
    b = ModelBuilder()
    x = b.tensor(in_shape, dtype, **quant)
    w = b.const(rng.integers(-127, 128, (4, 3, 3, in_shape[-1])), dtype,
                **({"scale": [0.02] * 4, "zero_point": [0] * 4} if dtype == "int8" else {}))
    bias = b.const(rng.integers(-100, 100, 4), "int32" if dtype == "int8" else "float32",
                   **({"scale": [0.002] * 4, "zero_point": [0] * 4} if dtype == "int8" else {}))
    out_quant = {"scale": 0.2, "zero_point": 5} if dtype == "int8" else {}
    y = b.tensor((1, in_shape[1], in_shape[2], 4), dtype, **out_quant)
    b.op("CONV_2D", [x, w, bias], [y], options("Conv2DOptions", padding=schema.Padding.SAME, strideH=1, strideW=1,
                                               dilationHFactor=1, dilationWFactor=1))
    return b.build([x], [y])


@pytest.fixture
def conv_file(tmp_path):
    path = tmp_path / "tiny_conv.tflite"
    path.write_bytes(conv_model())
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compile_writes_c_and_reports_figures(capsys, conv_file, tmp_path):
    code, out, _ = run(capsys, "compile", conv_file, "-o", tmp_path / "gen")
    assert code == 0
    assert (tmp_path / "gen" / "tiny_conv.c").is_file() and (tmp_path / "gen" / "tiny_conv.h").is_file()
    assert "tiny_conv: 1 layers, 6912 MACs, arena 2032 bytes, constants 148 bytes " in out
    assert "(weights 112, biases 16, requantization 20)" in out


def test_compile_is_deterministic(capsys, conv_file, tmp_path):
    run(capsys, "compile", conv_file, "-o", tmp_path / "a")
    run(capsys, "compile", conv_file, "-o", tmp_path / "b")
    for name in ("tiny_conv.c", "tiny_conv.h"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_compile_prints_the_plan(capsys, conv_file):
    code, out, _ = run(capsys, "compile", conv_file, "--plan")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("arena plan for tiny_conv: 3 buffers, 1 layers")  # input, output, im2col scratch
    assert any(line.split()[2:5] == ["192", "0..0", "t0"] for line in lines)  # the 8x8x3 input
    assert any("peak: " in line and "highest at layer 0 (CONV_2D)" in line for line in lines)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a TFLite model"),
        (b"hello, this is not a model at all", "not a TFLite model"),
    ],
)
def test_compile_rejects_files_that_are_not_models(capsys, tmp_path, content, message):
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    code, out, err = run(capsys, "compile", path)
    assert code == 2 and message in err and str(path) in err and "Traceback" not in err


def test_compile_rejects_a_truncated_model(capsys, tmp_path):
    path = tmp_path / "cut.tflite"
    path.write_bytes(conv_model()[:300])
    code, _, err = run(capsys, "compile", path)
    assert code == 2 and "damaged or truncated" in err


def test_compile_rejects_a_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "compile", tmp_path / "nope.tflite")
    assert code == 2 and "no such file" in err


def test_compile_explains_how_to_quantize_a_float_model(capsys, tmp_path):
    path = tmp_path / "float.tflite"
    path.write_bytes(conv_model(dtype="float32"))
    code, _, err = run(capsys, "compile", path)
    assert code == 2
    assert "operator 0 (CONV_2D) computes in float32: the model is not quantized" in err
    assert "TFLITE_BUILTINS_INT8" in err and "representative_dataset" in err


def test_compile_names_an_unsupported_operator(capsys, tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 4), "int8", 0.1, 0)
    y = b.tensor((1, 4), "int8", 1 / 128, 0)
    b.op("TANH", [x], [y])
    path = tmp_path / "tanh.tflite"
    path.write_bytes(b.build([x], [y]))
    code, _, err = run(capsys, "compile", path)
    assert code == 2
    assert "operator 0 (TANH) is not supported; supported operators:" in err and "CONV_2D" in err


def test_compile_refuses_a_model_too_big_for_the_target(capsys, tmp_path):
    b = ModelBuilder()
    x = b.tensor((1, 600_000), "int8", 0.1, 0)
    shape = b.const([600_000], "int32")
    y = b.tensor((600_000,), "int8", 0.1, 0)
    b.op("RESHAPE", [x, shape], [y])
    path = tmp_path / "big.tflite"
    path.write_bytes(b.build([x], [y]))
    assert run(capsys, "compile", path)[0] == 0  # fine without a target
    code, _, err = run(capsys, "compile", path, "--target", "u585")
    assert code == 2
    assert "does not fit target u585: its arena needs 1200000 bytes of RAM, the target has 786432" in err


def test_compile_rejects_an_unknown_target(capsys, conv_file):
    code, _, err = run(capsys, "compile", conv_file, "--target", "nrf52")
    assert code == 2 and "unknown target 'nrf52'" in err and "u585" in err and "qemu-m33" in err


@pytest.mark.parametrize("target", ["host", "qemu-m33"])
def test_infer_on_a_target_matches_the_reference(capsys, conv_file, tmp_path, target):
    inputs = np.random.default_rng(3).integers(-128, 128, (5, 8, 8, 3), dtype=np.int8)  # (N, *shape[1:])
    np.save(tmp_path / "x.npy", inputs)
    code, out, _ = run(capsys, "infer", "--target", target, "--model", conv_file,
                       "--inputs", tmp_path / "x.npy", "--out", tmp_path / "y.npy")
    assert code == 0 and "5 outputs of shape [1, 8, 8, 4] int8" in out
    outputs = np.load(tmp_path / "y.npy")
    golden = GoldenModel(conv_file).run(inputs.reshape(5, 1, 8, 8, 3))
    assert outputs.shape == (5, 1, 8, 8, 4) and outputs.tobytes() == golden.tobytes()


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((2, 1, 8, 8, 3), np.float32), "inputs are float32, the model's input is int8; quantize first"),
        (np.zeros((2, 8, 3, 8), np.int8), "expected (N, 1, 8, 8, 3) or (N, 8, 8, 3)"),
        (np.zeros((0, 8, 8, 3), np.int8), "holds no inputs"),
    ],
)
def test_infer_rejects_bad_inputs_and_writes_nothing(capsys, conv_file, tmp_path, array, message):
    np.save(tmp_path / "x.npy", array)
    code, _, err = run(capsys, "infer", "--model", conv_file, "--inputs", tmp_path / "x.npy",
                       "--out", tmp_path / "y.npy")
    assert code == 2 and message in err
    assert not (tmp_path / "y.npy").exists()


def test_infer_on_a_board_that_is_not_connected_says_what_is_missing(capsys, conv_file, tmp_path, monkeypatch):
    from pyocd.core.helpers import ConnectHelper

    # A fake discovery that finds no probe, whatever is plugged into this machine.
    monkeypatch.setattr(ConnectHelper, "get_all_connected_probes", staticmethod(lambda **_: []))
    np.save(tmp_path / "x.npy", np.zeros((1, 8, 8, 3), np.int8))
    code, _, err = run(capsys, "infer", "--target", "u585", "--model", conv_file, "--port", "/dev/ttyACM0",
                       "--inputs", tmp_path / "x.npy", "--out", tmp_path / "y.npy")
    assert code == 2 and "hil infer: error: cannot flash target u585: pyOCD finds no debug probe" in err
    assert not (tmp_path / "y.npy").exists()


@pytest.mark.parametrize("command", ["infer", "bench"])
@pytest.mark.parametrize("option, value, message", [
    ("--port", "/dev/ttyACM0", "--port does not apply to target qemu-m33: its link is a loopback socket"),
    ("--baud", "115200", "--baud does not apply to target qemu-m33"),
    ("--link-timeout", "0", "--link-timeout must be positive (got 0.0)"),
    ("--inference-timeout", "-1", "--inference-timeout must be positive (got -1.0)"),
])
def test_link_options_are_checked_against_the_target_before_any_work(
    capsys, conv_file, tmp_path, command, option, value, message
):
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((1, 1, 8, 8, 3), np.int8))
    io = ["--inputs", str(inputs), "--out", str(tmp_path / "y.npy")] if command == "infer" else [
        "--results-dir", str(tmp_path / "results")]
    code, _, err = run(capsys, command, "--target", "qemu-m33", "--model", str(conv_file), option, value, *io)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "y.npy").exists() and not (tmp_path / "results").exists()


def test_infer_rejects_inputs_that_are_not_npy(capsys, conv_file, tmp_path):
    (tmp_path / "x.npy").write_text("1,2,3\n")
    code, _, err = run(capsys, "infer", "--model", conv_file, "--inputs", tmp_path / "x.npy",
                       "--out", tmp_path / "y.npy")
    assert code == 2 and "not a .npy file" in err and "pickled" not in err and "Traceback" not in err


def test_console_script_reports_errors_without_traceback(tmp_path):
    path = tmp_path / "bad.tflite"
    path.write_bytes(b"nope")
    result = subprocess.run([sys.executable, "-m", "harness.cli", "compile", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("hil compile: error: ") and "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["host", "qemu-m33"])
def test_build_writes_the_image_and_its_footprint(capsys, conv_file, tmp_path, target):
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "build", "--target", target, "--model", str(conv_file), "-o", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["firmware.elf", "firmware.map", "footprint.json"]
    record = json.loads((out / "footprint.json").read_text())
    assert record["target"] == target and record["footprint"]["elf_flash"] > record["footprint"]["weights_flash"] > 0
    assert sum(record["footprint"]["tree"]["flash"].values()) == record["footprint"]["elf_flash"]
    assert f"for {target}: flash {record['footprint']['elf_flash']} B" in stdout


def test_build_refuses_a_file_in_the_way(capsys, conv_file, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("")
    code, _, err = run(capsys, "build", "--target", "host", "--model", str(conv_file), "-o", str(blocker))
    assert code == 2 and "is a file, expected a folder" in err and "Traceback" not in err
