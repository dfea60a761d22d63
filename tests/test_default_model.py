"""Tests of the project's default model: Yamnet-256 trained on the demo classes, and its cache."""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from harness.audio.datasets import load_dataset
from harness.audio.demo import DEMO_CLASSES, demo_dataset
from harness.audio.frontend import DEFAULT_FRONTEND, FRONTENDS, audio_patches
from harness.audio.patches import structured_int8_inputs, synthetic_log_mel_patches
from harness.audio.quantization import quantize
from harness.cli import main
from harness.errors import HilError
from harness.models import yamnet256

TENSORFLOW_NEEDED = "building the default model needs TensorFlow (pip install tensorflow-cpu)"
needs_tensorflow = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,
    reason=TENSORFLOW_NEEDED,
)

PUBLISHED_MODEL = (
    Path(__file__).resolve().parents[2]
    / "shared/models/st-yamnet256-esc10/yamnet_256_64x96_int8.tflite"
)
# shared/reference/yamnet256-facts.md
PUBLISHED_OPERATORS = (
    ["TRANSPOSE", "CONV_2D"]
    + ["DEPTHWISE_CONV_2D", "CONV_2D"] * 5
    + ["MEAN", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"]
)
REPOSITORY = Path(__file__).resolve().parents[1]
BASELINES = REPOSITORY / "results" / "baselines"


def _reference_interpreter(model: Path | bytes) -> Interpreter:
    """LiteRT with the reference kernels, the project's golden."""
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    interpreter = Interpreter(
        **source, experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interpreter.allocate_tensors()
    return interpreter


def _operator_names(interpreter: Interpreter) -> list[str]:
    return [op["op_name"] for op in interpreter._get_ops_details()]


def _run(interpreter: Interpreter, inputs: np.ndarray) -> np.ndarray:
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for model_input in inputs:
        interpreter.set_tensor(input_index, model_input)
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_index)[0].copy())
    return np.array(outputs)


@pytest.fixture(scope="module")
def model_path() -> Path:
    """The default model as the repository keeps it."""
    return yamnet256.default_model_path()


@pytest.fixture(scope="module")
def rebuilt_model(tmp_path_factory) -> bytes:
    """The default model built on this machine by the command that regenerates it."""
    pytest.importorskip("tensorflow", reason=TENSORFLOW_NEEDED)
    folder = tmp_path_factory.mktemp("rebuilt")
    output, float_output = folder / "yamnet256.tflite", folder / "yamnet256-float.tflite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HIL_CACHE_DIR", str(tmp_path_factory.mktemp("hil-cache")))
        assert main(["model", "yamnet256", "--rebuild", "-o", str(output), "--float-output", str(float_output)]) == 0
    return output.read_bytes(), float_output.read_bytes()


@pytest.fixture(scope="module")
def interpreter(model_path) -> Interpreter:
    return _reference_interpreter(model_path)


# --- the built model --------------------------------------------------------------------


def test_operators_are_the_published_models(interpreter):
    assert _operator_names(interpreter) == PUBLISHED_OPERATORS
    if PUBLISHED_MODEL.is_file():
        assert _operator_names(_reference_interpreter(PUBLISHED_MODEL)) == PUBLISHED_OPERATORS


def test_input_is_int8_patch_quantized_like_the_published_model(interpreter):
    (model_input,) = interpreter.get_input_details()
    assert model_input["dtype"] == np.int8
    assert tuple(model_input["shape"]) == (1, 64, 96, 1)
    scale, zero_point = model_input["quantization"]
    # Calibrated on patches in the published input domain (scale 0.0564, zero point 35).
    assert scale == pytest.approx(yamnet256.REFERENCE_INPUT_SCALE, rel=0.1)
    assert abs(zero_point - yamnet256.REFERENCE_INPUT_ZERO_POINT) <= 8


def test_output_is_float32_probabilities_of_the_demo_classes(interpreter):
    (model_output,) = interpreter.get_output_details()
    assert model_output["dtype"] == np.float32
    assert tuple(model_output["shape"]) == (1, len(DEMO_CLASSES))
    assert model_output["quantization"] == (0.0, 0)
    assert yamnet256.CLASS_NAMES == DEMO_CLASSES


def test_conv_weights_are_per_channel_and_dense_weights_per_tensor(interpreter):
    tensors = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}
    checked = 0
    for op in interpreter._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        weights = tensors[op["inputs"][1]]
        quantization = weights["quantization_parameters"]
        assert weights["dtype"] == np.int8
        if op["op_name"] == "FULLY_CONNECTED":
            assert len(quantization["scales"]) == 1
            continue
        channel_axis = 3 if op["op_name"] == "DEPTHWISE_CONV_2D" else 0
        assert quantization["quantized_dimension"] == channel_axis
        assert len(quantization["scales"]) == weights["shape"][channel_axis]
        assert np.all(quantization["zero_points"] == 0)
        checked += 1
    assert checked == 11


def test_outputs_are_probabilities_that_vary_with_the_input(interpreter):
    scale, zero_point = interpreter.get_input_details()[0]["quantization"]
    structured = structured_int8_inputs((1, 64, 96, 1), 10, 0, scale, zero_point)
    patches = quantize(synthetic_log_mel_patches(30, seed=11), scale, zero_point)
    outputs = _run(interpreter, np.concatenate([structured, patches.reshape(-1, 1, 64, 96, 1)]))
    assert np.all((outputs >= 0.0) & (outputs <= 1.0))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=0.02)
    # Trained, it is sure of itself (the int8 softmax output is mostly one-hot), but not stuck.
    assert len(set(outputs.argmax(axis=1))) >= 3
    assert len({output.tobytes() for output in outputs}) >= 5


def _demo_clip_accuracy(interpreter: Interpreter, demo: Path) -> float:
    """Clip-level accuracy on the demo dataset: golden outputs of each clip's patches, mean, argmax."""
    model_input = interpreter.get_input_details()[0]
    dataset = load_dataset(demo, classes=yamnet256.CLASS_NAMES)
    correct = 0
    for clip in dataset.clips:
        patches = audio_patches(clip.path, FRONTENDS[DEFAULT_FRONTEND])[:, np.newaxis, :, :, np.newaxis]
        if model_input["dtype"] == np.int8:
            patches = quantize(patches, *model_input["quantization"])
        prediction = _run(interpreter, patches).mean(axis=0).argmax()
        correct += dataset.classes[prediction] == clip.label
    return correct / len(dataset.clips)


def test_the_default_model_recognises_the_held_out_demo_clips(interpreter, tmp_path):
    """Trained on other clips of the demo classes: well above chance (1/4), float and int8."""
    demo = demo_dataset(tmp_path)
    int8_accuracy = _demo_clip_accuracy(interpreter, demo)
    float_accuracy = _demo_clip_accuracy(_reference_interpreter(yamnet256.default_float_model_path()), demo)
    print(f"\ndefault model on the demo dataset (golden): int8 {int8_accuracy:.0%}, float {float_accuracy:.0%}")
    assert int8_accuracy >= 0.8 and float_accuracy >= 0.8


def test_the_float_model_is_the_same_network_in_float32():
    interpreter = _reference_interpreter(yamnet256.default_float_model_path())
    (model_input,), (model_output,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert model_input["dtype"] == np.float32 and tuple(model_input["shape"]) == (1, 64, 96, 1)
    assert model_output["dtype"] == np.float32 and tuple(model_output["shape"]) == (1, len(DEMO_CLASSES))


# --- the committed default: the same bytes everywhere --------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_committed_baseline_names_the_committed_default_model(model_path):
    """The nightly gate compares against these: a default model with other bytes fails it."""
    baselines = [json.loads(path.read_text()) for path in sorted(BASELINES.rglob("*.json"))]
    named = [run for run in baselines if run["environment"]["model_name"] == yamnet256.MODEL_NAME]
    assert named, f"no committed baseline of {yamnet256.MODEL_NAME} under {BASELINES}"
    for run in named:
        assert run["environment"]["model_sha256"] == _sha256(model_path), run["run_id"]


def test_the_default_model_is_served_without_tensorflow_or_a_build():
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from harness.models import yamnet256\n"
        "yamnet256.build_yamnet256_models = None\n"
        "print(yamnet256.default_model_path())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert Path(result.stdout.strip()) == yamnet256.PACKAGED_MODEL


def test_the_model_command_writes_the_committed_bytes(model_path, tmp_path, monkeypatch):
    monkeypatch.setattr(yamnet256, "build_yamnet256_models", pytest.fail)
    assert main(["model", "yamnet256", "-o", str(tmp_path / "m.tflite")]) == 0
    assert (tmp_path / "m.tflite").read_bytes() == model_path.read_bytes()


def test_the_float_model_is_written_only_by_a_training(tmp_path, capsys):
    assert main(["model", "yamnet256", "-o", str(tmp_path / "m.tflite"), "--float-output", str(tmp_path / "f")]) == 2
    assert "--float-output needs --rebuild" in capsys.readouterr().err
    assert not (tmp_path / "m.tflite").exists()


def test_a_missing_default_model_says_how_to_restore_it(monkeypatch, tmp_path):
    monkeypatch.setattr(yamnet256, "PACKAGED_MODEL", tmp_path / "yamnet256.tflite")
    monkeypatch.setattr(yamnet256, "PACKAGED_FLOAT_MODEL", tmp_path / "yamnet256-float.tflite")
    for packaged in (yamnet256.default_model_path, yamnet256.default_float_model_path):
        with pytest.raises(HilError, match="--rebuild .*--float-output"):
            packaged()


def _structure(model: Path | bytes) -> list:
    """Everything but the values: operators with their tensors' names, shapes, types and the
    layout of their quantization (how many scales, along which axis, zero points of weights)."""
    interpreter = _reference_interpreter(model)
    tensors = {tensor["index"]: tensor for tensor in interpreter.get_tensor_details()}

    def tensor(index: int) -> tuple:
        details = tensors[index]
        quantization = details["quantization_parameters"]
        return (
            details["name"], tuple(details["shape"]), np.dtype(details["dtype"]).name,
            len(quantization["scales"]), int(quantization["quantized_dimension"]),
        )

    return [
        (op["op_name"], [tensor(i) for i in op["inputs"] if i >= 0], [tensor(i) for i in op["outputs"]])
        for op in interpreter._get_ops_details()
    ]


@pytest.mark.slow
def test_the_regenerate_command_gives_the_committed_architecture_and_quantization(model_path, rebuilt_model):
    rebuilt_int8, rebuilt_float = rebuilt_model
    assert _structure(rebuilt_int8) == _structure(model_path)
    assert _structure(rebuilt_float) == _structure(yamnet256.default_float_model_path())
    built, committed = _reference_interpreter(rebuilt_int8), _reference_interpreter(model_path)
    built_scale, built_zero_point = built.get_input_details()[0]["quantization"]
    scale, zero_point = committed.get_input_details()[0]["quantization"]
    # Calibration is float arithmetic: another CPU may move the input grid by a rounding, no more.
    assert built_scale == pytest.approx(scale, rel=1e-3)
    assert abs(built_zero_point - zero_point) <= 1


# --- the cache of other variants ------------------------------------------------------------


def test_the_cache_serves_a_built_file_without_rebuilding(monkeypatch, tmp_path):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(yamnet256, "_tensorflow_versions", lambda: "tensorflow-fake")
    monkeypatch.setattr(yamnet256, "build_yamnet256", lambda num_classes, seed: b"model bytes")
    path = yamnet256.built_model_path(num_classes=3, seed=1)
    monkeypatch.setattr(yamnet256, "build_yamnet256", pytest.fail)
    assert yamnet256.built_model_path(num_classes=3, seed=1) == path
    assert path.read_bytes() == b"model bytes"
    assert sorted(p.name for p in path.parent.parent.iterdir()) == [path.parent.name]  # no temporary left
    assert path.stat().st_mode & 0o777 == 0o644


def test_the_cache_name_holds_everything_that_changes_the_bytes(monkeypatch):
    tf = pytest.importorskip("tensorflow", reason=TENSORFLOW_NEEDED)
    name = yamnet256.cached_model_name(num_classes=7, seed=3)
    expected_parts = (
        "classes7", "seed3", f"tensorflow{tf.__version__}", f"recipe{yamnet256.RECIPE_VERSION}"
    )
    for part in expected_parts:
        assert part in name
    monkeypatch.setattr(yamnet256, "RECIPE_VERSION", yamnet256.RECIPE_VERSION + 1)
    assert yamnet256.cached_model_name(num_classes=7, seed=3) != name


@needs_tensorflow
def test_an_interrupted_write_leaves_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(yamnet256, "build_yamnet256", lambda num_classes, seed: b"model bytes")

    def interrupted_replace(source, destination):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", interrupted_replace)
        with pytest.raises(KeyboardInterrupt):
            yamnet256.built_model_path()
    assert list((tmp_path / "models").iterdir()) == []
    assert yamnet256.built_model_path().read_bytes() == b"model bytes"


@needs_tensorflow
def test_an_unwritable_cache_says_how_to_fix_it(monkeypatch, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("HIL_CACHE_DIR", str(blocker))
    monkeypatch.setattr(yamnet256, "build_yamnet256", lambda num_classes, seed: b"model bytes")
    with pytest.raises(HilError, match="HIL_CACHE_DIR"):
        yamnet256.built_model_path()


# --- TensorFlow stays optional ----------------------------------------------------------


def test_importing_the_harness_does_not_import_tensorflow():
    code = (
        "import sys, harness.models.yamnet256, harness.audio.patches; "
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_without_tensorflow_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # makes `import tensorflow` fail
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    with pytest.raises(HilError, match="pip install tensorflow-cpu"):
        yamnet256.build_yamnet256()
    with pytest.raises(HilError, match="pip install tensorflow-cpu"):
        yamnet256.built_model_path()


@pytest.mark.parametrize(
    "arguments", [{"num_classes": 1}, {"num_classes": len(DEMO_CLASSES) + 1}, {"seed": -1}, {"num_classes": 2.5}]
)
def test_bad_arguments_are_refused_before_any_work(arguments):
    with pytest.raises(HilError):
        yamnet256.built_model_path(**arguments)


# --- determinism (each test builds the model again) -------------------------------------


@pytest.mark.slow
def test_two_builds_on_one_machine_are_byte_identical(rebuilt_model):
    assert yamnet256.build_yamnet256_models() == rebuilt_model


@pytest.mark.slow
def test_other_arguments_give_another_model_with_that_many_classes(rebuilt_model):
    model = yamnet256.build_yamnet256(num_classes=3, seed=1)
    assert model != rebuilt_model[0]
    interpreter = _reference_interpreter(model)
    assert _operator_names(interpreter) == PUBLISHED_OPERATORS
    (model_output,) = interpreter.get_output_details()
    assert tuple(model_output["shape"]) == (1, 3) and model_output["dtype"] == np.float32
