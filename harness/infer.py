"""`hil infer`: run a stack of inputs through the firmware on a target and save the outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.compiler import compile_file
from harness.device.board import Board
from harness.device.session import open_device
from harness.errors import HilError
from harness.inputs import stack_inputs
from harness.io import load_array, save_array


def infer(model_path: Path, inputs_path: Path, out_path: Path, board: Board, name: str | None = None) -> np.ndarray:
    model = compile_file(model_path, name)
    graph = model.graph
    inputs = stack_inputs(load_array(inputs_path), graph.tensor(graph.inputs[0]), str(inputs_path))
    if inputs.shape[0] == 0:
        raise HilError(f"{inputs_path}: holds no inputs (first axis is 0)")
    with open_device(model, board) as device:
        outputs = device.run(inputs).outputs
    save_array(out_path, outputs)
    return outputs
