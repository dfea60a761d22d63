"""`hil infer`: run a stack of inputs through the firmware on a target and save the outputs.

Where the outputs go is checked before anything runs. When the run stops early (the device
fails, Ctrl-C, SIGTERM), the outputs finished so far are kept in <out>.partial.npy, and the
message says how many: the first K outputs belong to the first K inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from harness.compiler import compile_file
from harness.device.board import Board
from harness.device.session import open_device
from harness.errors import HilError
from harness.inputs import stack_inputs
from harness.io import check_writable_file, load_array, save_array


def partial_path(out_path: Path) -> Path:
    """Where the outputs of a run that stopped early are kept: out.npy -> out.partial.npy."""
    return out_path.with_name(f"{out_path.stem}.partial{out_path.suffix}")


def infer(model_path: Path, inputs_path: Path, out_path: Path, board: Board, name: str | None = None) -> np.ndarray:
    check_writable_file(out_path)
    model = compile_file(model_path, name)
    graph = model.graph
    inputs = stack_inputs(load_array(inputs_path), graph.tensor(graph.inputs[0]), str(inputs_path))
    if inputs.shape[0] == 0:
        raise HilError(f"{inputs_path}: holds no inputs (first axis is 0)")
    done: list[np.ndarray] = []
    try:
        with open_device(model, board) as device:
            for i in range(inputs.shape[0]):
                done.append(device.run(inputs[i:i + 1]).outputs[0])
    except HilError as exc:
        if done:
            exc.args = (f"{exc.args[0] if exc.args else exc}\n{_keep_partial(done, inputs, out_path)}", *exc.args[1:])
        raise
    except KeyboardInterrupt:
        if done:
            print(_keep_partial(done, inputs, out_path), file=sys.stderr)
        raise
    outputs = np.stack(done)
    save_array(out_path, outputs)
    partial_path(out_path).unlink(missing_ok=True)  # an earlier run's partial outputs are superseded
    return outputs


def _keep_partial(done: list[np.ndarray], inputs: np.ndarray, out_path: Path) -> str:
    path = partial_path(out_path)
    save_array(path, np.stack(done))
    return (f"stopped after {len(done)} of {inputs.shape[0]} inputs: the {len(done)} outputs finished (of inputs "
            f"0..{len(done) - 1}) are in {path}; {out_path} was not written")
