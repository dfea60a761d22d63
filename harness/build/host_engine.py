"""Build the generated C natively and run inputs through it: the engine on the host.

The kernels are compiled once into a static library (cached by their sources, the compiler
and the flags); each model then costs one small compile and a link. The runner executable is
cached by the generated code, so the same model is built once.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.build.firmware import compiler_version
from harness.build.sources import HOST_ENGINE_CFLAGS, kernel_cflags, kernel_headers, kernel_sources
from harness.cache import cached_entry
from harness.compiler import CompiledModel
from harness.compiler.graph import Tensor
from harness.errors import HilError
from harness.paths import FIRMWARE_DIR, KERNELS_DIR

RUNNER_SOURCE = FIRMWARE_DIR / "host" / "infer_batch.c"
RUN_TIMEOUT_S = 600


def host_compiler() -> str:
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise HilError(
            f"no C compiler '{compiler}' on PATH: install one (Debian: sudo apt-get install gcc) or set CC"
        )
    return compiler


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run_compiler(args: list[str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise HilError(f"building {what} failed:\n{result.stderr.strip()}")


def kernel_library(compiler: str | None = None) -> Path:
    compiler = compiler or host_compiler()
    sources = kernel_sources()
    headers = kernel_headers()
    contents = (p.name.encode() + repr(kernel_cflags(p)).encode() + p.read_bytes() for p in sources + headers)
    key = _digest(compiler_version(compiler), *HOST_ENGINE_CFLAGS, *contents)

    def build(staging: Path) -> None:
        objects = []
        for source in sources:
            obj = staging / (source.stem + ".o")
            command = [compiler, *HOST_ENGINE_CFLAGS, *kernel_cflags(source), "-I", str(KERNELS_DIR),
                       "-c", str(source), "-o", str(obj)]
            _run_compiler(command, source.name)
            objects.append(str(obj))
        _run_compiler(["ar", "rcs", str(staging / "libhilkernels.a"), *objects], "the kernel library")

    return cached_entry("host", f"kernels-{key}", build).path / "libhilkernels.a"


@dataclass
class HostEngine:
    """The compiled model as a native executable."""

    model: CompiledModel
    executable: Path

    @classmethod
    def build(cls, model: CompiledModel) -> HostEngine:
        compiler = host_compiler()
        library = kernel_library(compiler)
        runner = RUNNER_SOURCE.read_bytes()
        key = _digest(str(library), runner, *(name + text for name, text in sorted(model.files.items())))

        def build(staging: Path) -> None:
            model.write(staging)
            _run_compiler(
                [
                    compiler, *HOST_ENGINE_CFLAGS, "-I", str(KERNELS_DIR), "-iquote", str(staging),
                    f'-DHIL_MODEL_HEADER="{model.name}.h"', f"-DHIL_MODEL={model.name}_model",
                    str(staging / f"{model.name}.c"), str(RUNNER_SOURCE), str(library), "-lm",
                    "-o", str(staging / "infer_batch"),
                ],
                f"the host engine for {model.name}",
            )

        return cls(model, cached_entry("host", f"{model.name}-{key}", build).path / "infer_batch")

    def run(self, inputs: np.ndarray, layers: bool = False) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Outputs for a stack of inputs; with `layers`, also every layer's output tensor per input."""
        graph = self.model.graph
        in_tensor, out_tensor = graph.tensor(graph.inputs[0]), graph.tensor(graph.outputs[0])
        batch = np.ascontiguousarray(inputs, dtype=np.dtype(in_tensor.dtype))
        count = batch.shape[0]
        args = [str(self.executable)] + (["--layers"] if layers else [])
        try:
            result = subprocess.run(
                args, input=batch.tobytes(), capture_output=True, timeout=RUN_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise HilError(f"the host engine did not finish {count} inputs in {RUN_TIMEOUT_S} s") from None
        if result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            failed = re.match(r"layer (\d+) failed", message)
            if failed and int(failed[1]) < len(self.model.calls):  # the engine knows layers by index only
                message += f" (layer {failed[1]} is {self.model.describe_layer(int(failed[1]))})"
            raise HilError(f"the host engine failed: {message}")
        layer_tensors = [graph.tensor(call.outputs[0]) for call in self.model.calls] if layers else []
        record = sum(t.nbytes for t in layer_tensors) + out_tensor.nbytes
        if len(result.stdout) != record * count:
            raise HilError(f"the host engine wrote {len(result.stdout)} bytes, expected {record * count}")
        stream = np.frombuffer(result.stdout, dtype=np.uint8).reshape(count, record)
        per_layer, offset = [None] * len(layer_tensors), 0
        for position, tensor in enumerate(layer_tensors):
            per_layer[position] = _view(stream[:, offset:offset + tensor.nbytes], tensor, count)
            offset += tensor.nbytes
        outputs = _view(stream[:, offset:], out_tensor, count)
        return outputs, (per_layer if layers else None)


def _view(raw: np.ndarray, tensor: Tensor, count: int) -> np.ndarray:
    return np.ascontiguousarray(raw).view(np.dtype(tensor.dtype)).reshape((count, *tensor.shape))
