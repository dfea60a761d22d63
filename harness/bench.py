"""`hil bench`: compile, run reference patches on a target, and report parity with the golden.

This is the main job. It grows latency and footprint figures and result files as targets
gain them; today it measures what the host target can: bit-exactness and the compiler's
figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.compiler import compile_file
from harness.errors import HilError
from harness.golden import GoldenModel
from harness.host_engine import HostEngine
from harness.patches import structured_int8_inputs

BENCH_TARGETS = ("host",)


@dataclass(frozen=True)
class BenchResult:
    model: str
    sha256: str
    target: str
    layers: int
    macs: int
    arena_bytes: int
    weights_bytes: int
    compile_seconds: float
    patches: int
    exact_patches: int
    max_abs_diff: float
    top1_agreement: float

    def lines(self) -> list[str]:
        return [
            f"model     {self.model} (sha256 {self.sha256[:16]}...)",
            f"target    {self.target}",
            f"compiler  {self.layers} layers, {self.macs / 1e6:.2f} M MACs, arena {self.arena_bytes} bytes, "
            f"constants {self.weights_bytes} bytes, compiled in {self.compile_seconds:.2f} s",
            f"parity    {self.exact_patches}/{self.patches} patches bit-exact, "
            f"max |diff| {self.max_abs_diff:g}, top-1 agreement {100 * self.top1_agreement:.1f} %",
        ]


def bench(model_path: Path, target: str, patches: int, name: str | None = None, seed: int = 0) -> BenchResult:
    if target not in BENCH_TARGETS:
        raise HilError(f"hil bench runs on: {', '.join(BENCH_TARGETS)} (got --target {target})")
    if patches < 1:
        raise HilError(f"--patches must be at least 1 (got {patches})")
    started = time.perf_counter()
    model = compile_file(model_path, name)
    compile_seconds = time.perf_counter() - started
    graph = model.graph
    tensor = graph.tensor(graph.inputs[0])
    if tensor.dtype != "int8":
        raise HilError(f"hil bench streams int8 patches; this model's input is {tensor.dtype}")
    inputs = structured_int8_inputs(
        tensor.shape, patches, seed, float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    )
    outputs, _ = HostEngine.build(model).run(inputs)
    golden = GoldenModel(model_path).run(inputs)
    exact = sum(o.tobytes() == g.tobytes() for o, g in zip(outputs, golden))
    flat_out, flat_gold = outputs.reshape(patches, -1), golden.reshape(patches, -1)
    diff = np.abs(flat_out.astype(np.float64) - flat_gold.astype(np.float64)).max()
    agreement = float(np.mean(flat_out.argmax(axis=1) == flat_gold.argmax(axis=1)))
    return BenchResult(
        model.name, graph.sha256, target, len(model.calls), model.macs, model.plan.arena_size,
        model.weights_bytes, compile_seconds, patches, int(exact), float(diff), agreement,
    )
