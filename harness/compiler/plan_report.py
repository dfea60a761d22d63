"""The arena plan as a table a person can read (`hil compile --plan`)."""

from __future__ import annotations

from harness.compiler.compile import CompiledModel
from harness.compiler.planner import ALIGNMENT
from harness.compiler.stream import Stream

_NAME_WIDTH = 44


def _short(name: str) -> str:
    """TFLite names fused tensors 'a;b;c'; the last part is the most specific."""
    tail = name.split(";")[-1]
    return tail if len(tail) <= _NAME_WIDTH else "..." + tail[-(_NAME_WIDTH - 3):]


def stream_lines(model: CompiledModel, stream: Stream) -> list[str]:
    """A stream's bands and its whole schedule, as hil_stream_run will run it (checked by stream.check)."""
    kinds = ", ".join(call.op.kind for call in stream.calls)
    lines = [f"stream: layers {stream.first_layer}..{stream.last_layer} ({kinds}) run {len(stream.steps)} steps; "
             f"scratch {stream.scratch_bytes} bytes"]
    for stage, rows in enumerate(stream.band_rows):
        tensor = model.calls[stream.first_layer + stage].outputs[0]
        lines.append(f"  band {stage}: t{tensor} never whole, at most {rows} of its "
                     f"{stream.calls[stage].params['output'].h} rows ({stream.band_bytes(stage)} bytes)")
    # Each step as hil_stream_step holds it: stage+rows, "-d" when the band first drops d rows.
    words = [f"{stage}+{count}" + (f"-{drop}" if drop else "") for stage, count, drop in stream.encoded_steps()]
    lines += ["  steps (stage+rows, -d: the band first drops its d oldest rows):"]
    lines += ["    " + " ".join(words[start:start + 16]) for start in range(0, len(words), 16)]
    return lines


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
    for stream in model.streams:
        lines += stream_lines(model, stream)
    peak_layer = max(range(len(model.calls)), key=plan.peak_at)
    lines.append(
        f"peak: {plan.arena_size} bytes (arena, buffers {ALIGNMENT}-byte aligned); highest at layer {peak_layer} "
        f"({model.calls[peak_layer].op.kind}); constants: {model.weights_bytes} bytes"
    )
    return "\n".join(lines)

