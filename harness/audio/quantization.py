"""Float <-> int8 as TFLite's QUANTIZE and DEQUANTIZE do it, for the model's input tensor."""

from __future__ import annotations

import numpy as np

INT8_MIN = -128
INT8_MAX = 127


def quantize(x_float: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Quantize to int8 as TFLite's QUANTIZE does: float32 x / scale, round half away
    from zero, add the zero point, clip to [-128, 127]."""
    scaled = np.asarray(x_float, dtype=np.float32) / np.float32(scale)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))
    return np.clip(rounded + zero_point, INT8_MIN, INT8_MAX).astype(np.int8)


def dequantize(x_int8: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Return the float32 real values (q - zero_point) * scale of int8 values."""
    steps = np.asarray(x_int8, dtype=np.int32) - zero_point
    # The scale as a .tflite stores it (float32); the product rounded once, as TFLite does.
    return (steps * np.float64(np.float32(scale))).astype(np.float32)
