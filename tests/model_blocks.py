"""Small int8 models built with TensorFlow in the shapes users bring: a ResNet-style audio model
(PAD before valid convolutions, residual ADDs, a strided shortcut) and a MobileNetV3-style block
(HARD_SWISH, a depthwise convolution, squeeze-and-excitation: MEAN, MUL by a LOGISTIC gate) and
an inception-style block (branches joined by CONCATENATION, a STRIDED_SLICE, a residual SUB).

Seeded weights, random batch-norm statistics and post-training int8 quantization calibrated on
random inputs; int8 input, float32 output, as the project's Yamnet-256 is converted. Only tests
use this; the bytes may differ between machines, the judgement (engine vs reference on the same
bytes) does not."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from typing import Any, Callable

import numpy as np

CALIBRATION = 32


def _seed_batchnorms(model: Any, rng: np.random.Generator) -> None:
    """Non-trivial batch-norm statistics, so that folded scales differ per channel."""
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.uniform(-0.3, 0.3, beta.shape),
                               rng.uniform(-0.2, 0.2, mean.shape), rng.uniform(0.5, 1.5, var.shape)])


def _convert(tf: Any, model: Any, shape: tuple[int, ...], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, 1.0, (CALIBRATION, 1, *shape)).astype(np.float32)

    def representative_dataset():
        for sample in samples:
            yield [sample]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.float32
    return bytes(converter.convert())


def _build(define: Callable[[Any], Any], shape: tuple[int, ...], seed: int) -> bytes:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    keras = tf.keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    model = keras.Model(inputs, define(keras, inputs))
    _seed_batchnorms(model, np.random.default_rng(seed))
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # Expected with int8 input: the representative dataset gives the input range.
        warnings.filterwarnings("ignore", "Statistics for quantized inputs", UserWarning)
        return _convert(tf, model, shape, seed)


def _padded_conv(keras: Any, x: Any, filters: int, strides: int = 1) -> Any:
    """The audio ResNets' pattern: explicit PAD, then a valid 3x3 convolution (the converter folds
    the PAD into the convolution when it equals SAME padding, and keeps it for strided ones)."""
    x = keras.layers.ZeroPadding2D(1)(x)
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="valid", use_bias=False)(x)
    return keras.layers.BatchNormalization()(x)


def _resnet(keras: Any, inputs: Any, classes: int = 10) -> Any:
    layers = keras.layers
    x = layers.ReLU()(_padded_conv(keras, inputs, 8))
    # A ResNet stem's pooling on a zero-padded map (a PAD no convolution can absorb).
    x = layers.MaxPooling2D(3, strides=2)(layers.ZeroPadding2D(1)(x))
    # Identity block: the input stays alive across both convolutions, then joins.
    y = layers.ReLU()(_padded_conv(keras, x, 8))
    y = _padded_conv(keras, y, 8)
    x = layers.ReLU()(layers.Add()([x, y]))
    # Downsampling block: a strided 1x1 shortcut branch beside the padded strided path.
    shortcut = layers.BatchNormalization()(layers.Conv2D(16, 1, strides=2, use_bias=False)(x))
    y = layers.ReLU()(_padded_conv(keras, x, 16, strides=2))
    y = _padded_conv(keras, y, 16)
    x = layers.ReLU()(layers.Add()([shortcut, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Softmax()(layers.Dense(classes)(x))


def _hard_swish(keras: Any, x: Any) -> Any:
    return keras.layers.Activation("hard_swish")(x)


def _mobilenet_v3_block(keras: Any, inputs: Any, classes: int = 10) -> Any:
    layers = keras.layers
    x = _hard_swish(keras, layers.BatchNormalization()(layers.Conv2D(16, 3, strides=2, padding="same")(inputs)))
    # Inverted residual with squeeze-and-excitation.
    y = _hard_swish(keras, layers.BatchNormalization()(layers.Conv2D(32, 1)(x)))
    y = _hard_swish(keras, layers.BatchNormalization()(layers.DepthwiseConv2D(3, padding="same")(y)))
    gate = layers.GlobalAveragePooling2D(keepdims=True)(y)
    gate = layers.Conv2D(8, 1, activation="relu")(gate)
    gate = layers.Activation("sigmoid")(layers.Conv2D(32, 1)(gate))
    y = layers.Multiply()([y, gate])
    y = layers.BatchNormalization()(layers.Conv2D(16, 1)(y))
    x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Softmax()(layers.Dense(classes)(x))


def _branches(keras: Any, inputs: Any, classes: int = 10) -> Any:
    """Inception-style: three branches of one map (1x1; 3x3; pooled) joined on channels, then a
    slice of the joined channels and a residual SUB of the stem."""
    layers = keras.layers
    stem = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    one = layers.Conv2D(8, 1, activation="relu")(stem)
    three = layers.Conv2D(8, 3, padding="same", activation="relu")(stem)
    pooled = layers.Conv2D(8, 1, activation="relu")(layers.AveragePooling2D(3, strides=1, padding="same")(stem))
    joined = layers.Concatenate()([one, three, pooled])
    x = layers.Conv2D(8, 1)(joined)
    x = layers.Subtract()([x, stem])
    x = layers.Lambda(lambda t: t[:, ::2, 1:, :])(x)
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Softmax()(layers.Dense(classes)(x))


RESNET_INPUT = (64, 50, 1)  # the ESC-10 audio ResNets' log-mel patch
MOBILENET_INPUT = (32, 24, 1)
BRANCHES_INPUT = (32, 24, 1)


def resnet_model(seed: int = 0) -> bytes:
    return _build(_resnet, RESNET_INPUT, seed)


def mobilenet_v3_block_model(seed: int = 0) -> bytes:
    return _build(_mobilenet_v3_block, MOBILENET_INPUT, seed)


def branches_model(seed: int = 0) -> bytes:
    return _build(_branches, BRANCHES_INPUT, seed)
