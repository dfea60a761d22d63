"""The arena plan as a table a person can read (`hil compile --plan`)."""

from __future__ import annotations

from harness.compiler.compile import CompiledModel
from harness.compiler.planner import ALIGNMENT

_NAME_WIDTH = 44


def _short(name: str) -> str:
    """TFLite names fused tensors 'a;b;c'; the last part is the most specific."""
    tail = name.split(";")[-1]
    return tail if len(tail) <= _NAME_WIDTH else "..." + tail[-(_NAME_WIDTH - 3):]


def format_plan(model: CompiledModel) -> str:
    plan = model.plan
    lines = [
        f"arena plan for {model.name}: {len(plan.placements)} buffers, {len(model.calls)} layers",
        f"{'offset':>8} {'end':>8} {'bytes':>8}  {'live':<9} buffer",
    ]
    for p in sorted(plan.placements, key=lambda p: (p.offset, p.buffer.first)):
        live = f"{p.buffer.first}..{p.buffer.last}"
        label = _short(p.buffer.name) if p.buffer.tensor is None else f"t{p.buffer.tensor} {_short(p.buffer.name)}"
        lines.append(f"{p.offset:>8} {p.end:>8} {p.buffer.size:>8}  {live:<9} {label}")
    for pair in plan.shared:
        lines.append(f"in place: layer {pair.layer} ({model.calls[pair.layer].op.kind}) writes t{pair.output} "
                     f"over t{pair.input}")
    peak_layer = max(range(len(model.calls)), key=plan.peak_at)
    lines.append(
        f"peak: {plan.arena_size} bytes (arena, buffers {ALIGNMENT}-byte aligned); highest at layer {peak_layer} "
        f"({model.calls[peak_layer].op.kind}); constants: {model.weights_bytes} bytes"
    )
    return "\n".join(lines)

