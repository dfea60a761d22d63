"""Golden results: LiteRT's interpreter with the reference kernels (BUILTIN_REF).

The reference kernels are the judge of bit-exactness: they match TFLite Micro bit for bit,
while the default optimized kernels may differ by one LSB (softmax).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np

from harness.cache import cached_entry
from harness.errors import HilError
from harness.io import save_array
from harness.quiet import native_stderr_shown_on_failure

GOLDEN_FILE = "outputs.npy"


class GoldenModel:
    def __init__(self, model: bytes | str | Path, keep_intermediates: bool = False):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        content = model if isinstance(model, bytes) else Path(model).read_bytes()
        try:
            with native_stderr_shown_on_failure():  # LiteRT prints an INFO banner at creation
                self._interpreter = Interpreter(
                    model_content=content,
                    experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                    experimental_preserve_all_tensors=keep_intermediates,
                )
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            label = "the model" if isinstance(model, bytes) else str(model)
            raise HilError(
                f"the reference interpreter (LiteRT's reference kernels, the judge of every output) cannot load "
                f"{label}: {' '.join(str(exc).split())}"
            ) from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._input["shape"])

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self._input["dtype"])

    def invoke(self, x: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input["index"], x.reshape(self.input_shape).astype(self.input_dtype))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def tensor(self, index: int) -> np.ndarray:
        """A tensor after the last invoke (intermediates need keep_intermediates=True)."""
        return self._interpreter.get_tensor(index).copy()

    def run(self, inputs: np.ndarray) -> np.ndarray:
        return np.stack([self.invoke(x) for x in inputs])


def golden_outputs(model_path: Path, inputs: np.ndarray) -> np.ndarray:
    """Reference outputs for a stack of inputs, computed once per (model, inputs) and cached
    (a sealed entry: a damaged file is recomputed, never judged against)."""
    content = Path(model_path).read_bytes()
    key = hashlib.sha256()
    for part in (content, np.ascontiguousarray(inputs).tobytes(), str(inputs.shape).encode(), _litert_version()):
        key.update(hashlib.sha256(part).digest())

    def compute(folder: Path) -> None:
        save_array(folder / GOLDEN_FILE, GoldenModel(content).run(inputs))

    entry = cached_entry("golden", key.hexdigest()[:24], compute)
    return np.load(entry.path / GOLDEN_FILE, allow_pickle=False)


def _litert_version() -> bytes:
    return importlib.metadata.version("ai-edge-litert").encode()
