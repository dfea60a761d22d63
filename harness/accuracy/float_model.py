"""The float column: a float model (Keras .h5, or a float .tflite) run on the float log-mel patches.

A Keras .h5 is read with tf_keras (Keras 2), which reads the model zoo's files (Keras 3 refuses
their layer names, which contain '/'); a .tflite with LiteRT's interpreter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HilError
from harness.quiet import native_stderr_shown_on_failure

KERAS_SUFFIXES = (".h5", ".hdf5")


def check_float_model(path: Path) -> None:
    """Refuse a missing file or another kind of file before anything runs."""
    if not path.is_file():
        raise HilError(f"--float-model {path}: no such file")
    if path.suffix.lower() not in (*KERAS_SUFFIXES, ".tflite"):
        raise HilError(f"--float-model {path}: expected a Keras .h5 or a float .tflite, "
                       f"not '{path.suffix or path.name}'")


def float_outputs(path: Path, patches: np.ndarray) -> np.ndarray:
    """The model's outputs (patches, classes) for float patches (patches, mels, frames)."""
    check_float_model(path)
    if path.suffix.lower() in KERAS_SUFFIXES:
        return _keras_outputs(path, patches)
    return _tflite_outputs(path, patches)


def _fit(patches: np.ndarray, input_shape: tuple[int, ...], path: Path) -> np.ndarray:
    """The patches in the model's input layout: (mels, frames) as the model has it, e.g. with a
    trailing channel of 1."""
    shape = tuple(input_shape[1:])
    if int(np.prod(shape)) != int(np.prod(patches.shape[1:])):
        raise HilError(f"--float-model {path}: its input is {list(shape)}, the front end's patches are "
                       f"{list(patches.shape[1:])}")
    return patches.reshape((patches.shape[0], *shape)).astype(np.float32)


def _keras_outputs(path: Path, patches: np.ndarray) -> np.ndarray:
    from harness.models.yamnet256 import _quiet_tensorflow

    with _quiet_tensorflow():
        try:
            import tf_keras
        except ImportError as exc:
            raise HilError(f"--float-model {path}: reading a Keras .h5 needs tf_keras ({exc}); "
                           "pip install tf_keras, or pass a float .tflite") from None
        try:
            model = tf_keras.models.load_model(path, compile=False)
        except (OSError, ValueError, TypeError) as exc:
            raise HilError(f"--float-model {path}: not a Keras model tf_keras can read ({exc})") from None
        outputs = model.predict(_fit(patches, model.input_shape, path), verbose=0)
    return np.asarray(outputs, dtype=np.float32).reshape(patches.shape[0], -1)


def _tflite_outputs(path: Path, patches: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    try:
        with native_stderr_shown_on_failure():  # LiteRT prints an INFO banner at creation
            interpreter = Interpreter(model_path=str(path))
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise HilError(f"--float-model {path}: LiteRT cannot load it ({exc})") from None
    source, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    if np.dtype(source["dtype"]) != np.float32:
        raise HilError(f"--float-model {path}: its input is {np.dtype(source['dtype'])}, not float32; "
                       "the float column needs the float model (the int8 one is the golden)")
    outputs = []
    for patch in _fit(patches, tuple(source["shape"]), path):
        interpreter.set_tensor(source["index"], patch[np.newaxis])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(result["index"]).reshape(-1).astype(np.float32))
    return np.stack(outputs)
