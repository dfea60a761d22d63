"""`hil bench`: build, load, stream reference patches, and report parity, latency and footprint.

This is the main job. Result files, history and regression tables build on the figures
gathered here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.compiler import compile_file
from harness.device import open_device
from harness.errors import HilError
from harness.footprint import read_footprint
from harness.golden import golden_outputs
from harness.patches import structured_int8_inputs
from harness.targets import load_target

TIMING_RUNS = 5


@dataclass(frozen=True)
class BenchResult:
    model: str
    sha256: str
    target: str
    layers: int
    macs: int
    arena_bytes: int
    constants_bytes: int
    compile_seconds: float
    patches: int
    exact_patches: int
    max_abs_diff: float
    top1_agreement: float
    retransmits: int
    patches_per_second: float
    latency_unit: str
    latency_median: int
    flash_bytes: int
    ram_bytes: int

    def lines(self) -> list[str]:
        return [
            f"model     {self.model} (sha256 {self.sha256[:16]}...)",
            f"target    {self.target}",
            f"compiler  {self.layers} layers, {self.macs / 1e6:.2f} M MACs, arena {self.arena_bytes} bytes, "
            f"constants {self.constants_bytes} bytes, compiled in {self.compile_seconds:.2f} s",
            f"parity    {self.exact_patches}/{self.patches} patches bit-exact, "
            f"max |diff| {self.max_abs_diff:g}, top-1 agreement {100 * self.top1_agreement:.1f} %",
            f"link      {self.patches_per_second:.2f} patches/s end to end, {self.retransmits} retransmissions",
            f"latency   {self.latency_median} {self.latency_unit} per inference (median of {TIMING_RUNS} runs)",
            f"image     flash {self.flash_bytes} bytes, RAM {self.ram_bytes} bytes (from the ELF)",
        ]


def bench(model_path: Path, target_id: str, patches: int, name: str | None = None,
          port: str | None = None) -> BenchResult:
    if patches < 1:
        raise HilError(f"--patches must be at least 1 (got {patches})")
    target = load_target(target_id)
    started = time.perf_counter()
    model = compile_file(model_path, name)
    compile_seconds = time.perf_counter() - started
    graph = model.graph
    tensor = graph.tensor(graph.inputs[0])
    if tensor.dtype != "int8":
        raise HilError(f"hil bench streams int8 patches; this model's input is {tensor.dtype}")
    inputs = structured_int8_inputs(
        tensor.shape, patches, 0, float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])
    )
    golden = golden_outputs(model_path, inputs)
    with open_device(model, target, port) as device:
        run = device.run(inputs)
        timing = device.time(inputs[-1], TIMING_RUNS)
        footprint = read_footprint(device.image.path, model.name)
    outputs = run.outputs
    exact = sum(o.tobytes() == g.tobytes() for o, g in zip(outputs, golden))
    flat_out, flat_gold = outputs.reshape(patches, -1), golden.reshape(patches, -1)
    diff = np.abs(flat_out.astype(np.float64) - flat_gold.astype(np.float64)).max()
    agreement = float(np.mean(flat_out.argmax(axis=1) == flat_gold.argmax(axis=1)))
    return BenchResult(
        model.name, graph.sha256, target.id, len(model.calls), model.macs, model.plan.arena_size,
        model.weights_bytes, compile_seconds, patches, int(exact), float(diff), agreement,
        run.retransmits, patches / run.seconds, timing.unit, int(np.median(timing.totals)),
        footprint.flash_bytes, footprint.ram_bytes,
    )
