"""The project's default model: Yamnet-256 with seeded weights, quantized to int8.

It has the architecture, operators, shapes and quantization scheme of the published
ESC-10 Yamnet-256 (see shared/reference/yamnet256-facts.md) but no trained weights:
the weights come from one seed, and the batch-norm statistics and the head are fitted
to synthetic log-mel patches so that every layer's activations are realistic (neither
dead nor saturated) and different inputs give different class outputs. It exercises the
engine and the measurements like the real model does; its predictions mean nothing.

The default model (10 classes, seed 0) is kept in the repository beside this file, because
its bytes are not the same on every machine: building and calibrating it is float arithmetic
whose last bits depend on the CPU, and every committed baseline names the model by its SHA-256.
`hil model yamnet256 --rebuild -o harness/models/yamnet256.tflite` regenerates it (then save
new baselines); tests check that the build still gives the same architecture and quantization.

TensorFlow is needed only to build a model (`pip install tensorflow-cpu`), and it is imported
only inside `build_yamnet256`. `built_model_path` builds other variants once and caches them.
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

from harness.audio.patches import MEL_BINS, PATCH_FRAMES, synthetic_log_mel_patches
from harness.audio.quantization import dequantize, quantize
from harness.errors import HilError
from harness.io import write_atomically
from harness.paths import cache_dir
from harness.quiet import native_stderr_shown_on_failure

# Bump whenever a change here changes the built bytes, so cached models are rebuilt.
RECIPE_VERSION = 1

# The C prefix of the default model's generated code and its name in results.
MODEL_NAME = "yamnet256"

# The arguments of the default model, the one kept in the repository (PACKAGED_MODEL).
DEFAULT_CLASSES = 10
DEFAULT_SEED = 0

# The input quantization of the published ESC-10 model. Calibrating on patches clipped
# and rounded to this grid gives our model nearly the same input quantization, so one set
# of int8 patches suits both models.
REFERENCE_INPUT_SCALE = 0.056411128491163254
REFERENCE_INPUT_ZERO_POINT = 35

CALIBRATION_PATCHES = 160
BATCHNORM_EPSILON = 1e-4  # as in YAMNet

# (depthwise stride, pointwise filters) of layers 2..6.
SEPARABLE_LAYERS = ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256))
FIRST_LAYER_FILTERS = 32

# Spread of the head's logits across inputs: wide enough that the top class changes
# from input to input, narrow enough that the softmax is not one-hot everywhere.
HEAD_LOGIT_STD = 2.0

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
        epsilon=BATCHNORM_EPSILON, scale=False, name=f"{name}_bn", dtype=dtype
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


# --- weights fitted to synthetic patches ------------------------------------------------


def _seeded_batchnorm_weights(
    pre_activations: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """[beta, moving_mean, moving_variance] that normalise these activations roughly,
    with seeded per-channel offsets and gains, as a trained network's would be."""
    channels = pre_activations.shape[-1]
    per_channel = pre_activations.reshape(-1, channels)
    mean, variance = per_channel.mean(axis=0), per_channel.var(axis=0)
    moving_mean = mean + rng.normal(0.0, 0.2, channels) * np.sqrt(variance)
    # YAMNet's batch norm has no gamma: a seeded variance factor plays the per-channel gain.
    moving_variance = variance * rng.uniform(0.5, 2.0, channels)
    beta = rng.normal(0.0, 0.5, channels)
    return [beta, moving_mean, moving_variance]


def _seeded_head_weights(
    embeddings: np.ndarray, num_classes: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """[kernel, bias] giving logits centred on these embeddings with HEAD_LOGIT_STD spread."""
    kernel = rng.normal(0.0, 1.0, (embeddings.shape[1], num_classes))
    centred_logits = (embeddings - embeddings.mean(axis=0)) @ kernel
    kernel *= HEAD_LOGIT_STD / (centred_logits.std(axis=0) + 1e-12)
    bias = -embeddings.mean(axis=0) @ kernel + rng.normal(0.0, 0.5, num_classes)
    return [kernel, bias]


def _fit_statistics(keras: Any, model: Any, patches: np.ndarray, rng: np.random.Generator) -> None:
    """Set batch-norm statistics and head weights layer by layer from the patches' activations."""
    x = patches[..., np.newaxis]
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights(_seeded_batchnorm_weights(np.asarray(x), rng))
        elif isinstance(layer, keras.layers.Dense):
            layer.set_weights(_seeded_head_weights(np.asarray(x), layer.units, rng))
        x = layer(x, training=False)


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


def _calibration_patches(seed: int) -> np.ndarray:
    """Synthetic patches as they look after a round trip through the reference input grid."""
    patches = synthetic_log_mel_patches(CALIBRATION_PATCHES, seed)
    return dequantize(
        quantize(patches, REFERENCE_INPUT_SCALE, REFERENCE_INPUT_ZERO_POINT),
        REFERENCE_INPUT_SCALE,
        REFERENCE_INPUT_ZERO_POINT,
    )


def _check_arguments(num_classes: int, seed: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise HilError(f"num_classes must be a positive integer, got {num_classes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HilError(f"seed must be a non-negative integer, got {seed!r}")


def build_yamnet256(num_classes: int = DEFAULT_CLASSES, seed: int = DEFAULT_SEED) -> bytes:
    """Build the seeded int8 Yamnet-256 and return its .tflite bytes.

    The same arguments give the same bytes with the same TensorFlow on the same machine.
    """
    _check_arguments(num_classes, seed)
    with _quiet_tensorflow():
        tf = _import_tensorflow()
        keras = tf.keras
        keras.backend.clear_session()
        # Every weight comes from `rng`; the global seeds keep anything else repeatable too.
        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(seed)
        kernel_seed = int(rng.integers(2**31 - 100))
        patches = _calibration_patches(seed)
        # Fitted in float64, so the float32 weights do not depend on TensorFlow's choice
        # of CPU kernels (oneDNN or not, thread count) except in the rarest rounding cases.
        fitting_model = _keras_yamnet256(keras, num_classes, kernel_seed, "float64")
        _fit_statistics(keras, fitting_model, patches.astype(np.float64), rng)
        model = _keras_yamnet256(keras, num_classes, kernel_seed, "float32")
        model.set_weights([w.astype(np.float32) for w in fitting_model.get_weights()])
        return _convert_to_int8(tf, model, patches)


# --- the packaged default and the cache --------------------------------------------------

PACKAGED_MODEL = Path(__file__).with_name("yamnet256.tflite")


def default_model_path() -> Path:
    """The default model as committed: the same bytes on every machine, no TensorFlow needed."""
    if not PACKAGED_MODEL.is_file():
        raise HilError(
            f"the default model {PACKAGED_MODEL} is missing from this installation; restore it from the "
            f"repository, or regenerate it with: hil model yamnet256 --rebuild -o {PACKAGED_MODEL}"
        )
    return PACKAGED_MODEL


def cached_model_name(num_classes: int, seed: int) -> str:
    """A file name that changes whenever the built bytes may change."""
    return (
        f"yamnet256-int8-classes{num_classes}-seed{seed}"
        f"-{_tensorflow_versions()}-recipe{RECIPE_VERSION}.tflite"
    )


def built_model_path(num_classes: int = DEFAULT_CLASSES, seed: int = DEFAULT_SEED) -> Path:
    """A model built on this machine with these arguments, cached after the first build."""
    _check_arguments(num_classes, seed)
    try:
        folder = cache_dir("models")
    except OSError as error:
        raise HilError(
            f"Cannot create the model cache: {error}. Set HIL_CACHE_DIR to a writable directory."
        ) from error
    path = folder / cached_model_name(num_classes, seed)
    if not path.is_file():
        model = build_yamnet256(num_classes, seed)
        write_atomically(path, lambda tmp: tmp.write_bytes(model))
    return path
