"""Chains of int8 convolutions (3x3, depthwise 3x3, pointwise; any stride and padding) built as
.tflite models, for the stream and scratch tests."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.compiler.ops.conv import output_size

from tflite_builder import ModelBuilder, options

SAME, VALID = schema.Padding.SAME, schema.Padding.VALID

# A layer of a chain: kind -> (operator, kernel size).
LAYER_KINDS = {
    "conv3x3": ("CONV_2D", 3),
    "depthwise3x3": ("DEPTHWISE_CONV_2D", 3),
    "pointwise": ("CONV_2D", 1),
}


def chain_model(seed: int, in_shape: tuple[int, int, int], layers: list[tuple]) -> bytes:
    """int8 CONV_2D / DEPTHWISE_CONV_2D layers one after the other, per-channel filter scales."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    h, w, c = in_shape
    scale = 0.05
    x = b.tensor([1, h, w, c], "int8", scale, int(rng.integers(-20, 20)), name="x")
    first = x
    for index, (kind, channels, stride, padding) in enumerate(layers):
        op, kernel = LAYER_KINDS[kind]
        out_c = c if op == "DEPTHWISE_CONV_2D" else channels
        out_h, out_w = (output_size(padding, size, kernel, stride, 1) for size in (h, w))
        taps = kernel * kernel * (1 if op == "DEPTHWISE_CONV_2D" else c)
        w_scales = rng.uniform(0.5, 1.5, out_c) / (127 * np.sqrt(taps))
        shape = (1, kernel, kernel, out_c) if op == "DEPTHWISE_CONV_2D" else (out_c, kernel, kernel, c)
        weights = b.const(rng.integers(-127, 128, shape), "int8", scale=w_scales, zero_point=[0] * out_c,
                          axis=3 if op == "DEPTHWISE_CONV_2D" else 0)
        bias = b.const(rng.integers(-2000, 2000, out_c), "int32", scale=scale * w_scales, zero_point=[0] * out_c)
        out_scale = scale * float(rng.uniform(0.6, 1.2))
        y = b.tensor([1, out_h, out_w, out_c], "int8", out_scale, int(rng.integers(-30, 30)), name=f"y{index}")
        kind_options = ("DepthwiseConv2DOptions", dict(depthMultiplier=1)) if op == "DEPTHWISE_CONV_2D" else (
            "Conv2DOptions", {})
        b.op(op, [x, weights, bias], [y], options(kind_options[0], padding=padding, strideH=stride, strideW=stride,
                                                  fusedActivationFunction=int(rng.integers(0, 2)), **kind_options[1]))
        x, h, w, c, scale = y, out_h, out_w, out_c, out_scale
    return b.build([first], [x])


CHAINS = {
    "audio front: conv s2, depthwise, pointwise, depthwise s2": (
        (18, 14, 1), [("conv3x3", 8, 2, SAME), ("depthwise3x3", 0, 1, SAME), ("pointwise", 16, 1, VALID),
                      ("depthwise3x3", 0, 2, SAME)]),
    "VALID strides: rows the next layer never reads": (
        (17, 9, 4), [("depthwise3x3", 0, 2, VALID), ("pointwise", 6, 1, VALID), ("conv3x3", 5, 2, VALID)]),
    "pointwise pair then a 3x3 conv, odd widths": (
        (7, 5, 3), [("pointwise", 7, 1, VALID), ("pointwise", 9, 1, VALID), ("conv3x3", 4, 1, SAME)]),
}
