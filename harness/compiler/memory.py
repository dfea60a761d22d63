"""The arena a model runs in: its buffers and lifetimes, and the layout choices that shrink it.

Two choices trade instructions for bytes, and each is taken only where it lowers the arena:
- streams (harness.compiler.stream): a chain of layers run a few rows at a time, so the tensors
  inside it never exist whole;
- the packed conv kernels' chunk (hil_conv.h): a smaller chunk, a smaller scratch, a little slower.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.compiler.codegen import scratch_name
from harness.compiler.graph import Graph
from harness.compiler.lowering import KernelCall
from harness.compiler.ops.conv import with_chunk
from harness.compiler.planner import Buffer, InPlace, Plan, plan_arena
from harness.compiler.stream import MAX_STREAM_LAYERS, Stream, chains, check, schedule

# The chunks tried for a layer whose scratch sits at the peak, largest first (hil_conv.h).
SMALLER_CHUNKS = (56, 48, 40, 32, 28, 24, 20, 16)
# Once the smallest arena is known, chunks grow back while the arena stays within this share of
# it: the last few KiB of scratch would cost a large layer a quarter of its chunk, about 10 % of its
# instructions (the shared model: 1 M instructions for 3 KiB).
SPEED_SLACK = 1 / 16
# Rows a stream's stage computes per step, tried within that slack, most first (1 is the smallest).
STREAM_BATCHES = (4, 2)
# To take more rows per step, a stream's conv stages may take a chunk down to these: a kernel call
# costs more than a smaller chunk (the shared model: a depthwise stage at 2 rows a step instead of
# 1 saves 0.26 M instructions; its pointwise stage at 32 pixels a chunk instead of 64 costs 0.15 M).
STREAM_CHUNK_CAPS = (48, 40, 32)


@dataclass
class Layout:
    calls: list[KernelCall]
    streams: list[Stream]
    plan: Plan


def activation_buffers(graph: Graph, calls: list[KernelCall], streams: list[Stream] = ()) -> list[Buffer]:
    """Every tensor that exists whole, kernel scratch and stream band, with the layers during which it
    is live. A stream's input is read, and its output written, from its first layer to its last."""
    last_layer = len(calls) - 1
    first: dict[int, int] = {index: 0 for index in graph.inputs}
    last: dict[int, int] = {index: last_layer for index in graph.outputs}
    for layer, call in enumerate(calls):
        for index in call.outputs:
            first.setdefault(index, layer)
            last[index] = max(last.get(index, layer), layer)
        for index in call.inputs:
            if not graph.tensor(index).is_constant:
                last[index] = max(last.get(index, layer), layer)
    streamed = {layer for stream in streams for layer in stream.layers}
    inner = {call.outputs[0] for stream in streams for call in stream.calls[:-1]}
    for stream in streams:
        source, result = stream.calls[0].inputs[0], stream.calls[-1].outputs[0]
        last[source] = max(last[source], stream.last_layer)
        first[result] = min(first[result], stream.first_layer)
    buffers = []
    for index in sorted(first):
        if index not in inner:
            tensor = graph.tensor(index)
            buffers.append(Buffer(tensor.name, tensor.nbytes, first[index], last[index], tensor=index))
    for layer, call in enumerate(calls):
        if call.scratch_bytes and layer not in streamed:
            buffers.append(Buffer(scratch_name(call), call.scratch_bytes, layer, layer))
    for stream in streams:
        live = (stream.first_layer, stream.last_layer)
        buffers += [Buffer(stream.band_name(stage), stream.band_bytes(stage), *live) for stage in range(len(stream.band_rows))]
        if stream.scratch_bytes:
            buffers.append(Buffer(stream.scratch_name, stream.scratch_bytes, *live))
    return buffers


def in_place_pairs(buffers: list[Buffer], calls: list[KernelCall], streams: list[Stream] = ()) -> tuple[InPlace, ...]:
    """The layers whose kernel may write over its input, where this layer is the input's last reader
    (a layer inside a stream writes bands, never over its input)."""
    last = {buffer.tensor: buffer.last for buffer in buffers if buffer.tensor is not None}
    streamed = {layer for stream in streams for layer in stream.layers}
    return tuple(
        InPlace(call.inputs[0], call.outputs[0], layer, call.in_place)
        for layer, call in enumerate(calls)
        if call.in_place is not None and last.get(call.inputs[0]) == layer and layer not in streamed
    )


def plan_for(graph: Graph, calls: list[KernelCall], streams: list[Stream]) -> Plan:
    buffers = activation_buffers(graph, calls, streams)
    return plan_arena(buffers, in_place_pairs(buffers, calls, streams))


def _candidates(graph: Graph, calls: list[KernelCall], taken: list[Stream], peak_layers: set[int]) -> list[range]:
    """Streams worth trying: every run of two or more layers of a chain that covers a layer at the peak
    and meets no stream already taken."""
    consumers: dict[int, list[int]] = {}
    for layer, call in enumerate(calls):
        for index in call.inputs:
            consumers.setdefault(index, []).append(layer)
    busy = {layer for stream in taken for layer in stream.layers}
    found = []
    for chain in chains(calls, consumers, set(graph.outputs)):
        for start in chain:
            for stop in range(start + 2, min(chain.stop, start + MAX_STREAM_LAYERS) + 1):
                layers = range(start, stop)
                if peak_layers & set(layers) and not busy & set(layers):
                    found.append(layers)
    return found


def _peak_layers(plan: Plan, layers: int) -> set[int]:
    return {layer for layer in range(layers) if plan.peak_at(layer) == plan.arena_size}


def _with_streams(graph: Graph, calls: list[KernelCall]) -> Layout:
    """Greedily, the stream that lowers the arena most (the shorter one on a tie), while one does."""
    streams: list[Stream] = []
    best = plan_for(graph, calls, streams)
    while True:
        trials = []
        for layers in _candidates(graph, calls, streams, _peak_layers(best, len(calls))):
            stream = schedule(layers.start, tuple(calls[layers.start:layers.stop]))
            check(stream)
            plan = plan_for(graph, calls, streams + [stream])
            if plan.arena_size < best.arena_size:
                trials.append((plan.arena_size, len(layers), stream, plan))
        if not trials:
            return Layout(calls, sorted(streams, key=lambda s: s.first_layer), best)
        _, _, stream, best = min(trials, key=lambda trial: trial[:2])
        streams.append(stream)


def _with_smaller_chunks(graph: Graph, layout: Layout) -> Layout:
    """While a packed conv layer at the peak runs whole, the largest smaller chunk that lowers the
    arena, or leaves it and takes that layer off the peak (layers tied at the peak go one by one)."""
    calls, streams, best = list(layout.calls), layout.streams, layout.plan
    streamed = {layer for stream in streams for layer in stream.layers}

    def cost(plan: Plan) -> tuple[int, int]:
        return plan.arena_size, len(_peak_layers(plan, len(calls)))

    improved = True
    while improved:
        improved = False
        for layer in sorted(_peak_layers(best, len(calls)) - streamed):
            call = calls[layer]
            for chunk in (c for c in SMALLER_CHUNKS if c < call.params.get("chunk_pixels", 0)):
                trial = calls[:layer] + [with_chunk(call, chunk)] + calls[layer + 1:]
                plan = plan_for(graph, trial, streams)
                if cost(plan) < cost(best):
                    calls, best, improved = trial, plan, True
                    break
            if improved:
                break
    return Layout(calls, streams, best)


def _without_needless_streams(graph: Graph, calls: list[KernelCall], layout: Layout) -> Layout:
    """Each stream dropped again where smaller chunks alone keep the arena as small (a stream costs
    more instructions than a smaller chunk)."""
    for stream in reversed(layout.streams):
        rest = [other for other in layout.streams if other is not stream]
        trial = _with_smaller_chunks(graph, Layout(calls, rest, plan_for(graph, calls, rest)))
        if trial.plan.arena_size <= layout.plan.arena_size:
            layout = trial
    return layout


def _fit_longer_steps(graph: Graph, calls: list[KernelCall], streams: list[Stream], index: int, stage: int,
                      rows: int, budget: int) -> tuple[list[KernelCall], list[Stream]] | None:
    """Stream `index` with `rows` rows per step at `stage`, its conv stages' chunks as they are or
    capped (STREAM_CHUNK_CAPS), whichever first keeps the arena within `budget`; None if none does."""
    stream = streams[index]
    batches = stream.batches[:stage] + (rows,) + stream.batches[stage + 1:]
    for cap in (None, *STREAM_CHUNK_CAPS):
        trial_calls = list(calls)
        for layer in stream.layers:
            if cap is not None and trial_calls[layer].params.get("chunk_pixels", 0) > cap:
                trial_calls[layer] = with_chunk(trial_calls[layer], cap)
        longer = schedule(stream.first_layer, tuple(trial_calls[layer] for layer in stream.layers), batches)
        check(longer)
        trial_streams = streams[:index] + [longer] + streams[index + 1:]
        if plan_for(graph, trial_calls, trial_streams).arena_size <= budget:
            return trial_calls, trial_streams
    return None


def _longer_stream_steps(graph: Graph, layout: Layout, budget: int) -> Layout:
    """Within `budget`, each stream's stages with the most rows per step (fewer kernel calls), the
    last stage first: its batch sets how many rows the stages before it make per step."""
    calls, streams = list(layout.calls), list(layout.streams)
    for index, stream in enumerate(layout.streams):
        for stage in reversed(range(len(stream.calls))):
            for rows in STREAM_BATCHES:
                fitted = _fit_longer_steps(graph, calls, streams, index, stage, rows, budget)
                if fitted is not None:
                    calls, streams = fitted
                    break
    return Layout(calls, streams, plan_for(graph, calls, streams))


def _larger_chunks(graph: Graph, calls: list[KernelCall], layout: Layout, budget: int) -> Layout:
    """Within `budget`, each shrunk chunk of a layer run whole back to the largest, the layers with
    the most MACs first (they gain the most)."""
    current = list(layout.calls)
    streamed = {layer for stream in layout.streams for layer in stream.layers}
    for layer in sorted(set(range(len(calls))) - streamed, key=lambda layer: -calls[layer].macs):
        fastest = calls[layer].params.get("chunk_pixels", 0)
        if current[layer].params.get("chunk_pixels", 0) == fastest:
            continue
        for chunk in [fastest] + [c for c in SMALLER_CHUNKS if current[layer].params["chunk_pixels"] < c < fastest]:
            trial = current[:layer] + [with_chunk(current[layer], chunk)] + current[layer + 1:]
            if plan_for(graph, trial, layout.streams).arena_size <= budget:
                current = trial
                break
    return Layout(current, layout.streams, plan_for(graph, current, layout.streams))


def smallest_layout(graph: Graph, calls: list[KernelCall]) -> Layout:
    """Streams, then smaller chunks, while either lowers the arena; then back to larger chunks where
    that costs less than SPEED_SLACK of the arena."""
    smallest = _without_needless_streams(graph, calls, _with_smaller_chunks(graph, _with_streams(graph, calls)))
    budget = int(smallest.plan.arena_size * (1 + SPEED_SLACK))
    return _larger_chunks(graph, calls, _longer_stream_steps(graph, smallest, budget), budget)
