"""Tests of the project's default model: the seeded int8 Yamnet-256 and its cache."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from harness.errors import HilError
from harness.models import yamnet256
from harness.patches import quantize, structured_int8_inputs, synthetic_log_mel_patches

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
def model_path(tmp_path_factory) -> Path:
    """The default model, built once for this module into a temporary cache."""
    pytest.importorskip("tensorflow", reason=TENSORFLOW_NEEDED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HIL_CACHE_DIR", str(tmp_path_factory.mktemp("hil-cache")))
        return yamnet256.default_model_path()


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


def test_output_is_float32_class_probabilities(interpreter):
    (model_output,) = interpreter.get_output_details()
    assert model_output["dtype"] == np.float32
    assert tuple(model_output["shape"]) == (1, 10)
    assert model_output["quantization"] == (0.0, 0)


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
    assert len({output.tobytes() for output in outputs}) == len(outputs)
    patch_classes = outputs[len(structured) :].argmax(axis=1)
    assert len(set(patch_classes)) >= 3
    assert outputs[len(structured) :].max(axis=1).mean() < 0.9  # not one-hot everywhere


# --- the cache --------------------------------------------------------------------------


def test_the_cache_serves_the_built_file_without_rebuilding(model_path, monkeypatch):
    monkeypatch.setenv("HIL_CACHE_DIR", str(model_path.parents[1]))
    monkeypatch.setattr(yamnet256, "build_yamnet256", pytest.fail)
    assert yamnet256.default_model_path() == model_path
    assert [p.name for p in model_path.parent.iterdir()] == [model_path.name]  # no temporary left
    assert model_path.stat().st_mode & 0o777 == 0o644


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
            yamnet256.default_model_path()
    assert list((tmp_path / "models").iterdir()) == []
    assert yamnet256.default_model_path().read_bytes() == b"model bytes"


@needs_tensorflow
def test_an_unwritable_cache_says_how_to_fix_it(monkeypatch, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("HIL_CACHE_DIR", str(blocker))
    monkeypatch.setattr(yamnet256, "build_yamnet256", lambda num_classes, seed: b"model bytes")
    with pytest.raises(HilError, match="HIL_CACHE_DIR"):
        yamnet256.default_model_path()


# --- TensorFlow stays optional ----------------------------------------------------------


def test_importing_the_harness_does_not_import_tensorflow():
    code = (
        "import sys, harness.models.yamnet256, harness.patches; "
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
        yamnet256.default_model_path()


@pytest.mark.parametrize("arguments", [{"num_classes": 0}, {"seed": -1}, {"num_classes": 2.5}])
def test_bad_arguments_are_refused_before_any_work(arguments):
    with pytest.raises(HilError):
        yamnet256.default_model_path(**arguments)


# --- determinism (each test builds the model again) -------------------------------------


@pytest.mark.slow
def test_two_builds_with_the_same_arguments_are_byte_identical(model_path):
    assert yamnet256.build_yamnet256(num_classes=10, seed=0) == model_path.read_bytes()


@pytest.mark.slow
def test_other_arguments_give_another_model_with_that_many_classes(model_path):
    model = yamnet256.build_yamnet256(num_classes=3, seed=1)
    assert model != model_path.read_bytes()
    interpreter = _reference_interpreter(model)
    assert _operator_names(interpreter) == PUBLISHED_OPERATORS
    (model_output,) = interpreter.get_output_details()
    assert tuple(model_output["shape"]) == (1, 3) and model_output["dtype"] == np.float32
