"""A tiny model with the shape of Yamnet-256 (conv, depthwise, pointwise, mean, dense, softmax).

Its generated C is checked in under docs/examples/ so that a change to the code generator
shows up as a readable diff; tests/test_codegen_example.py keeps the two in step.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from tflite_builder import ModelBuilder, options

RELU = 1


def _conv_options(kind: str, stride: int, **extra):
    return options(kind, padding=schema.Padding.SAME, strideH=stride, strideW=stride,
                   dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=RELU, **extra)


def example_model() -> bytes:
    rng = np.random.default_rng(20261125)
    b = ModelBuilder()

    def weights(shape, axis):
        channels = shape[axis]
        scales = rng.uniform(0.004, 0.02, channels)
        data = rng.integers(-127, 128, shape)
        return b.const(data, "int8", scale=scales, zero_point=[0] * channels, axis=axis), scales

    def bias(in_scale, w_scales):
        return b.const(rng.integers(-300, 300, w_scales.size), "int32",
                       scale=in_scale * w_scales, zero_point=[0] * w_scales.size)

    x = b.tensor((1, 8, 6, 1), "int8", 0.05, 35, name="input")
    w1, s1 = weights((4, 3, 3, 1), 0)
    h1 = b.tensor((1, 4, 3, 4), "int8", 0.04, -128, name="conv")
    b.op("CONV_2D", [x, w1, bias(0.05, s1)], [h1], _conv_options("Conv2DOptions", 2))
    w2, s2 = weights((1, 3, 3, 4), 3)
    h2 = b.tensor((1, 4, 3, 4), "int8", 0.03, -128, name="depthwise")
    b.op("DEPTHWISE_CONV_2D", [h1, w2, bias(0.04, s2)], [h2],
         _conv_options("DepthwiseConv2DOptions", 1, depthMultiplier=1))
    w3, s3 = weights((8, 1, 1, 4), 0)
    h3 = b.tensor((1, 4, 3, 8), "int8", 0.02, -128, name="pointwise")
    b.op("CONV_2D", [h2, w3, bias(0.03, s3)], [h3], _conv_options("Conv2DOptions", 1))
    axes = b.const([1, 2], "int32")
    h4 = b.tensor((1, 8), "int8", 0.01, -128, name="mean")
    b.op("MEAN", [h3, axes], [h4], options("ReducerOptions", keepDims=False))
    w5 = b.const(rng.integers(-127, 128, (3, 8)), "int8", scale=0.01, zero_point=0)
    b5 = b.const(rng.integers(-100, 100, 3), "int32", scale=0.0001, zero_point=0)
    h5 = b.tensor((1, 3), "int8", 0.1, 2, name="logits")
    b.op("FULLY_CONNECTED", [h4, w5, b5], [h5], options("FullyConnectedOptions"))
    h6 = b.tensor((1, 3), "int8", 1 / 256, -128, name="probabilities")
    b.op("SOFTMAX", [h5], [h6], options("SoftmaxOptions", beta=1.0))
    y = b.tensor((1, 3), "float32", name="output")
    b.op("DEQUANTIZE", [h6], [y])
    return b.build([x], [y])
