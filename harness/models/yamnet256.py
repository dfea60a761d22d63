"""The project's default model: Yamnet-256 trained on the demo classes, quantized to int8.

It has the architecture, operators, shapes and quantization scheme of the published
ESC-10 Yamnet-256 (see shared/reference/yamnet256-facts.md), with a head for the four demo
classes (harness/audio/demo.py, `CLASS_NAMES`). It is trained in float from one seed on
clips of those classes made by the demo generators (other clips than the demo dataset's,
which stays held out), through the default front end (harness/audio/frontend.py, "zoo"),
then quantized after training, calibrated on the same patches and on digital silence.
So its figures on the demo dataset mean something: float and int8 accuracy, and the
device's agreement with the golden, on sounds it was not trained on.

The default model (4 classes, seed 0) is kept in the repository beside this file with its
float32 twin (yamnet256-float.tflite, for the float accuracy column), because training is
float arithmetic whose last bits depend on the CPU, and every committed baseline names the
model by its SHA-256. `hil model yamnet256 --rebuild -o harness/models/yamnet256.tflite
--float-output harness/models/yamnet256-float.tflite` regenerates both (then save new
baselines); tests check that the build still gives the same architecture and quantization.

TensorFlow is needed only to build a model (`pip install tensorflow-cpu`), and it is imported
only inside `build_yamnet256_models`. `built_model_path` builds other variants once and caches them.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from harness.audio.demo import DEMO_CLASSES, demo_waveform
from harness.audio.frontend import DEFAULT_FRONTEND, frontend, log_mel_patches
from harness.audio.patches import MEL_BINS, PATCH_FRAMES
from harness.audio.quantization import dequantize, quantize
from harness.cache import cached_entry
from harness.errors import HilError
from harness.quiet import native_stderr_shown_on_failure

# Bump whenever a change here changes the built bytes, so cached models are rebuilt.
RECIPE_VERSION = 2

# The C prefix of the default model's generated code and its name in results.
MODEL_NAME = "yamnet256"

# The arguments of the default model, the one kept in the repository (PACKAGED_MODEL).
DEFAULT_CLASSES = len(DEMO_CLASSES)
DEFAULT_SEED = 0
# The default model's outputs, in order.
CLASS_NAMES = DEMO_CLASSES

# The input quantization of the published ESC-10 model. Calibrating on patches clipped
# and rounded to this grid gives our model nearly the same input quantization, so one set
# of int8 patches suits both models.
REFERENCE_INPUT_SCALE = 0.056411128491163254
REFERENCE_INPUT_ZERO_POINT = 35

CALIBRATION_PATCHES = 200
CALIBRATION_SILENCE_PATCHES = 8
TRAINING_CLIPS_PER_CLASS = 60
EPOCHS = 8
BATCH_SIZE = 32
LEARNING_RATE = 1e-3
BATCHNORM_EPSILON = 1e-4  # as in YAMNet
# The moving statistics must settle within a short training (a few hundred steps).
BATCHNORM_MOMENTUM = 0.9

# (depthwise stride, pointwise filters) of layers 2..6.
SEPARABLE_LAYERS = ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256))
FIRST_LAYER_FILTERS = 32

_TENSORFLOW_MISSING = (
    "Building the default Yamnet-256 model needs TensorFlow, which is not installed. "
    "Install it with: pip install tensorflow-cpu"
)

_QUIET_TENSORFLOW_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # hides C++ INFO, WARNING and ERROR logs
}


# --- TensorFlow, imported late and quietly ----------------------------------------------


@contextlib.contextmanager
def _quiet_tensorflow() -> Iterator[None]:
    """Silence TensorFlow's logs and Keras' export messages while the model is built.

    Environment variables the user set themselves are left as they are.
    """
    added = [name for name in _QUIET_TENSORFLOW_ENVIRONMENT if name not in os.environ]
    for name in added:
        os.environ[name] = _QUIET_TENSORFLOW_ENVIRONMENT[name]
    tf_logger = logging.getLogger("tensorflow")
    previous_level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            native_stderr_shown_on_failure(),
        ):
            # Expected with int8 input: the representative dataset gives the input range.
            warnings.filterwarnings("ignore", "Statistics for quantized inputs", UserWarning)
            yield
    finally:
        tf_logger.setLevel(previous_level)
        for name in added:
            del os.environ[name]


def _import_tensorflow() -> ModuleType:
    try:
        import tensorflow as tf
    except ImportError as error:
        raise HilError(f"{_TENSORFLOW_MISSING} ({error})") from error
    return tf


def _tensorflow_versions() -> str:
    """The TensorFlow and Keras versions, read without importing TensorFlow."""
    if importlib.util.find_spec("tensorflow") is None:
        raise HilError(_TENSORFLOW_MISSING)
    providers = importlib.metadata.packages_distributions()
    versions = []
    for package in ("tensorflow", "keras"):
        distribution = providers.get(package, [package])[0]
        try:
            versions.append(f"{package}{importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package}-unknown")
    return "-".join(versions)


# --- the Keras model --------------------------------------------------------------------


def _conv_bn_relu(keras: Any, x: Any, conv: Any, name: str, dtype: str) -> Any:
    """Apply `conv`, then YAMNet's batch norm (no scale) and ReLU, named after `name`."""
    x = conv(x)
    x = keras.layers.BatchNormalization(
        epsilon=BATCHNORM_EPSILON, momentum=BATCHNORM_MOMENTUM, scale=False, name=f"{name}_bn", dtype=dtype
    )(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)


def _keras_yamnet256(keras: Any, num_classes: int, kernel_seed: int, dtype: str) -> Any:
    """Yamnet-256 with a softmax head, computing in `dtype`.

    Layer names follow the published model, with '_' in place of '/', which Keras does not
    allow. Convolution kernels are He-normal, seeded from `kernel_seed`.
    """
    seeds = iter(range(kernel_seed, kernel_seed + 1 + len(SEPARABLE_LAYERS) * 2))

    def kernel_initializer() -> Any:
        return keras.initializers.HeNormal(seed=next(seeds))

    inputs = keras.Input(shape=(MEL_BINS, PATCH_FRAMES, 1), name="log_mel_patch", dtype=dtype)
    # Frames first, as YAMNet wants; the .tflite then starts with TRANSPOSE like the published one.
    x = keras.layers.Permute((2, 1, 3), name="permute", dtype=dtype)(inputs)
    first_conv = keras.layers.Conv2D(
        FIRST_LAYER_FILTERS, 3, strides=2, padding="same", use_bias=False,
        kernel_initializer=kernel_initializer(), name="layer1_conv", dtype=dtype,
    )
    x = _conv_bn_relu(keras, x, first_conv, "layer1_conv", dtype)
    for number, (stride, filters) in enumerate(SEPARABLE_LAYERS, start=2):
        depthwise = keras.layers.DepthwiseConv2D(
            3, strides=stride, padding="same", use_bias=False,
            depthwise_initializer=kernel_initializer(), name=f"layer{number}_depthwise_conv",
            dtype=dtype,
        )
        x = _conv_bn_relu(keras, x, depthwise, f"layer{number}_depthwise_conv", dtype)
        pointwise = keras.layers.Conv2D(
            filters, 1, padding="same", use_bias=False,
            kernel_initializer=kernel_initializer(), name=f"layer{number}_pointwise_conv",
            dtype=dtype,
        )
        x = _conv_bn_relu(keras, x, pointwise, f"layer{number}_pointwise_conv", dtype)
    x = keras.layers.GlobalAveragePooling2D(name="global_average_pooling", dtype=dtype)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head", dtype=dtype)(x)
    return keras.Model(inputs, outputs, name="yamnet256")


# --- training on the demo classes -------------------------------------------------------


def _on_reference_grid(patches: np.ndarray) -> np.ndarray:
    """The patches as the int8 model sees them: rounded and clipped to the reference input grid."""
    return dequantize(
        quantize(patches, REFERENCE_INPUT_SCALE, REFERENCE_INPUT_ZERO_POINT),
        REFERENCE_INPUT_SCALE,
        REFERENCE_INPUT_ZERO_POINT,
    )


def _training_data(num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Patches of the demo classes' training clips (not the demo dataset's own clips) through
    the default front end and the reference input grid, and their class indices."""
    fe = frontend(DEFAULT_FRONTEND)
    patches, labels = [], []
    for label, name in enumerate(DEMO_CLASSES[:num_classes]):
        for index in range(TRAINING_CLIPS_PER_CLASS):
            clip_patches = log_mel_patches(demo_waveform(name, index, split="train"), fe)
            patches.append(clip_patches)
            labels += [label] * len(clip_patches)
    return _on_reference_grid(np.concatenate(patches)), np.array(labels)


def _train(tf: ModuleType, model: Any, patches: np.ndarray, labels: np.ndarray) -> None:
    """Float training, seeded: Adam on the cross-entropy, shuffled batches."""
    keras = tf.keras
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(patches[..., np.newaxis], labels, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=True, verbose=0)


# --- conversion -------------------------------------------------------------------------


def _convert_to_int8(tf: ModuleType, model: Any, patches: np.ndarray) -> bytes:
    """Post-training int8 quantization: int8 input, float32 output, per-channel conv weights."""

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for patch in patches:
            yield [patch[np.newaxis, :, :, np.newaxis]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.float32
    # Per-tensor FULLY_CONNECTED weights, as in the published model; tests check it holds.
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return bytes(converter.convert())


def _convert_to_float(tf: ModuleType, model: Any) -> bytes:
    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def _calibration_patches(patches: np.ndarray, seed: int) -> np.ndarray:
    """A seeded sample of the training patches, and digital silence (log of the front end's
    offset everywhere), which recordings padded with zeros give (ESC-50's are): the input
    range then reaches the bottom of the reference grid, as the published model's does."""
    rng = np.random.default_rng(seed)
    sample = patches[rng.permutation(len(patches))[: CALIBRATION_PATCHES - CALIBRATION_SILENCE_PATCHES]]
    silence = np.full((CALIBRATION_SILENCE_PATCHES, *patches.shape[1:]), np.log(frontend(DEFAULT_FRONTEND).log_offset))
    return np.concatenate([sample, _on_reference_grid(silence)])


def _check_arguments(num_classes: int, seed: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= len(DEMO_CLASSES):
        raise HilError(
            f"num_classes must be an integer from 2 to {len(DEMO_CLASSES)} (the demo classes it is trained on: "
            f"{', '.join(DEMO_CLASSES)}), got {num_classes!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HilError(f"seed must be a non-negative integer, got {seed!r}")


def build_yamnet256_models(num_classes: int = DEFAULT_CLASSES, seed: int = DEFAULT_SEED) -> tuple[bytes, bytes]:
    """Train Yamnet-256 on the first `num_classes` demo classes and return the .tflite bytes of
    its int8 model and of its float32 model.

    The same arguments give the same bytes with the same TensorFlow on the same machine.
    """
    _check_arguments(num_classes, seed)
    with _quiet_tensorflow():
        tf = _import_tensorflow()
        keras = tf.keras
        keras.backend.clear_session()
        # Weights, shuffling and dropout all come from the seed; deterministic kernels keep
        # a rebuild on one machine byte-identical.
        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        patches, labels = _training_data(num_classes)
        kernel_seed = int(np.random.default_rng(seed).integers(2**31 - 100))
        model = _keras_yamnet256(keras, num_classes, kernel_seed, "float32")
        _train(tf, model, patches, labels)
        return _convert_to_int8(tf, model, _calibration_patches(patches, seed)), _convert_to_float(tf, model)


def build_yamnet256(num_classes: int = DEFAULT_CLASSES, seed: int = DEFAULT_SEED) -> bytes:
    """The int8 model of `build_yamnet256_models`."""
    return build_yamnet256_models(num_classes, seed)[0]


# --- the packaged default and the cache --------------------------------------------------

PACKAGED_MODEL = Path(__file__).with_name("yamnet256.tflite")
BUILT_MODEL_FILE = "yamnet256.tflite"  # inside its cache entry
PACKAGED_FLOAT_MODEL = Path(__file__).with_name("yamnet256-float.tflite")
REGENERATE = f"hil model yamnet256 --rebuild -o {PACKAGED_MODEL} --float-output {PACKAGED_FLOAT_MODEL}"


def _packaged(path: Path) -> Path:
    if not path.is_file():
        raise HilError(
            f"the default model {path} is missing from this installation; restore it from the "
            f"repository, or regenerate it with: {REGENERATE}"
        )
    return path


def default_model_path() -> Path:
    """The default model as committed: the same bytes on every machine, no TensorFlow needed."""
    return _packaged(PACKAGED_MODEL)


def default_float_model_path() -> Path:
    """The float32 model of the same training, as committed (the float accuracy's model)."""
    return _packaged(PACKAGED_FLOAT_MODEL)


def cached_model_name(num_classes: int, seed: int) -> str:
    """A cache entry name that changes whenever the built bytes may change."""
    return (
        f"yamnet256-int8-classes{num_classes}-seed{seed}"
        f"-{_tensorflow_versions()}-recipe{RECIPE_VERSION}"
    )


def built_model_path(num_classes: int = DEFAULT_CLASSES, seed: int = DEFAULT_SEED) -> Path:
    """A model built on this machine with these arguments, cached (sealed) after the first build."""
    _check_arguments(num_classes, seed)

    def build(folder: Path) -> None:
        (folder / BUILT_MODEL_FILE).write_bytes(build_yamnet256(num_classes, seed))

    return cached_entry("models", cached_model_name(num_classes, seed), build).path / BUILT_MODEL_FILE
