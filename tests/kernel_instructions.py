"""Benchmark: instructions per element of the added kernels on qemu-m33 (not a test).

    PYTHONPATH=. python tests/kernel_instructions.py

Each kernel runs as the only layer of a model at two sizes on the emulated Cortex-M33; its layer's
instruction count (the device's per-layer timing, -icount) at both sizes gives the cost of one more
element, free of the call's fixed overhead: (I(2N) - I(N)) / N. Emulator counts are instructions,
not time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_op_activation import LOGISTIC_OUTPUT, activation_model  # noqa: E402
from test_op_concatenation import concat_model  # noqa: E402
from test_op_mul import const_mul_model, gate_model  # noqa: E402
from test_op_pad import pad_model  # noqa: E402
from test_op_strided_slice import slice_model  # noqa: E402
from test_op_views import expand_model  # noqa: E402

from harness.compiler.compile import compile_graph  # noqa: E402
from harness.compiler.graph import parse_model  # noqa: E402
from harness.device.board import Board  # noqa: E402
from harness.device.session import open_device  # noqa: E402
from harness.targets import load_target  # noqa: E402

from tflite_builder import binary_with_constant  # noqa: E402

ROWS = 16  # the models are [1, rows, 16, 32]: 512 elements a row


def kernels(rows: int) -> dict[str, tuple[bytes, tuple[int, ...], int]]:
    """name -> (model, input shape, elements the layer writes)"""
    shape = (1, rows, 16, 32)
    size = int(np.prod(shape))
    quant = [(0.05, 3), (0.02, -4), (0.03, 1)]
    return {
        "hil_lookup_s8 (RELU, RELU6, LEAKY_RELU, LOGISTIC, HARD_SWISH)": (
            activation_model("LOGISTIC", (0.05, 3), LOGISTIC_OUTPUT, shape=shape), shape, size),
        "hil_pad_s8 (PAD, PADV2; output elements)": (
            pad_model(shape, [(0, 0), (1, 1), (1, 1), (0, 0)], (0.05, 3)), shape, (rows + 2) * 18 * 32),
        "hil_mul_s8, same shapes": (const_mul_model((shape, shape), quant), shape, size),
        "hil_mul_s8, per-channel broadcast": (const_mul_model((shape, (32,)), quant), shape, size),
        "hil_mul_s8, squeeze-and-excitation gate (MEAN + MUL; MUL layer)": (
            gate_model(rows, 16, 32, quant, True, 0), shape, size),
        "hil_add_elementwise_s8 (SUB, same shapes)": (binary_with_constant("SUB", (shape, shape), quant), shape, size),
        "hil_add_s8 (SUB, per-channel broadcast)": (binary_with_constant("SUB", (shape, (32,)), quant), shape, size),
        "hil_concat_s8 (CONCATENATION of the input and a constant on channels; output elements)": (
            concat_model(shape, 3, ["input", 32]), shape, 2 * size),
        "hil_strided_slice_s8 (STRIDED_SLICE, every other row, all channels; output elements)": (
            slice_model(shape, [0, 0, 0, 0], list(shape), [1, 2, 1, 1]), shape, size // 2),
        "hil_strided_slice_s8 (STRIDED_SLICE, every other channel; output elements)": (
            slice_model(shape, [0, 0, 0, 0], list(shape), [1, 1, 1, 2]), shape, size // 2),
        "hil_reshape_s8 (SQUEEZE, EXPAND_DIMS)": (expand_model(shape, 0, (1, *shape)), shape, size),
    }


def layer_instructions(model: bytes, shape: tuple[int, ...], board: Board) -> int:
    compiled = compile_graph(parse_model(model, "kernel_cost.tflite"), "kernel_cost")
    patch = np.random.default_rng(0).integers(-128, 128, shape, dtype=np.int8)
    with open_device(compiled, board) as device:
        timing = device.time(patch, runs=1)
    assert timing.unit == "instructions"
    return timing.per_layer[-1]  # the kernel under test is the last layer


def main() -> None:
    board = Board(load_target("qemu-m33"))
    small, large = kernels(ROWS), kernels(2 * ROWS)
    print(f"{'kernel':86} {'N':>6} {'I(N)':>9} {'I(2N)':>9} {'instr/element':>13}")
    for name in small:
        (model_n, shape_n, n), (model_2n, shape_2n, n2) = small[name], large[name]
        count_n, count_2n = layer_instructions(model_n, shape_n, board), layer_instructions(model_2n, shape_2n, board)
        print(f"{name:86} {n:6d} {count_n:9d} {count_2n:9d} {(count_2n - count_n) / (n2 - n):13.2f}", flush=True)


if __name__ == "__main__":
    main()
