"""Streams: chains of layers run a few rows at a time (harness/compiler/stream.py, kernels/stream.c).

The schedule is proved by stream.check for any chain geometry, and check itself is shown to catch
broken schedules. End to end, a streamed chain gives the reference's bytes for the output AND for
every streamed layer's output (assembled band by band by the observer), on the host with both
kernel paths and on qemu-m33 (READ_LAYER), whatever the strides, paddings and heights.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.build.host_engine import HostEngine
from harness.compiler.codegen import generate
from harness.compiler.compile import CompiledModel, compile_graph
from harness.compiler.graph import parse_model
from harness.compiler.lowering import LOWERINGS, KernelCall, Shape4
from harness.compiler.memory import plan_for
from harness.compiler.ops.conv import output_size
from harness.compiler.stream import MAX_STREAM_LAYERS, ScheduleError, check, input_window, schedule
from harness.device.board import Board
from harness.device.session import open_device
from harness.targets import load_target

from conv_chains import CHAINS, SAME, VALID, chain_model
from emulator_check import needs_emulator
from engine_check import host_engine_for, reference_layers


# -- the schedule, on geometry alone ------------------------------------------------------------
def fake_call(in_h: int, kernel: int, stride: int, padding: int) -> KernelCall:
    """Only what the schedule reads: the rows, stride, padding and filter height."""
    out_h = output_size(padding, in_h, kernel, stride, 1)
    pad = max((out_h - 1) * stride + kernel - in_h, 0) // 2
    params = {"input": Shape4(1, in_h, 5, 2), "output": Shape4(1, out_h, 5, 2), "filter": Shape4(2, kernel, kernel, 2),
              "stride_h": stride, "pad_h": pad, "dilation_h": 1}
    return KernelCall(None, "fake", "fake", params, [0], [1], band_scratch=lambda call, rows: 16 * rows)


@st.composite
def chains_of_geometry(draw):
    rows = draw(st.integers(3, 40))
    calls = []
    for _ in range(draw(st.integers(2, 5))):
        kernel, stride = draw(st.sampled_from([(1, 1), (3, 1), (3, 2)]))
        padding = draw(st.sampled_from([SAME, VALID]))
        if output_size(padding, rows, kernel, stride, 1) < 1:
            break
        calls.append(fake_call(rows, kernel, stride, padding))
        rows = calls[-1].params["output"].h
    batches = tuple(draw(st.lists(st.integers(1, 4), min_size=len(calls), max_size=len(calls))))
    return tuple(calls), batches


@settings(max_examples=300, deadline=None)
@given(chains_of_geometry())
def test_every_schedule_reads_only_rows_its_bands_hold(chain):
    calls, batches = chain
    if len(calls) < 2:
        return
    stream = schedule(0, calls, batches)
    check(stream)  # every read inside the band, every write fitting, every row computed once
    computed = [0] * len(calls)
    for step in stream.steps:
        computed[step.stage] += step.count
    assert computed == [call.params["output"].h for call in calls]
    # A band never holds more than the rows one step of the next layer reads, plus what it adds.
    for stage, rows in enumerate(stream.band_rows):
        reads = max(input_window(calls[stage + 1], 0, count)[1] for count in range(1, 6))
        assert rows <= reads + max(s.count for s in stream.steps if s.stage == stage)


def streamed_geometry():
    return schedule(0, (fake_call(24, 3, 2, SAME), fake_call(12, 3, 1, SAME), fake_call(12, 1, 1, VALID)))


@pytest.mark.parametrize("breakage", ["step left out", "band one row short", "rows dropped too early", "too many rows"])
def test_check_catches_a_broken_schedule(breakage):
    stream = streamed_geometry()
    check(stream)
    steps = list(stream.steps)
    if breakage == "step left out":
        broken = replace(stream, steps=tuple(steps[:5] + steps[6:]))
    elif breakage == "band one row short":
        broken = replace(stream, band_rows=(stream.band_rows[0] - 1, *stream.band_rows[1:]))
    elif breakage == "rows dropped too early":
        at = next(i for i, s in enumerate(steps) if s.stage == 0 and s.keep > 0)
        steps[at] = replace(steps[at], keep=steps[at].keep + 1)
        broken = replace(stream, steps=tuple(steps))
    else:
        steps[-1] = replace(steps[-1], count=steps[-1].count + 1)
        broken = replace(stream, steps=tuple(steps))
    with pytest.raises(ScheduleError):
        check(broken)


# -- real chains, end to end ---------------------------------------------------------------------
def compiled_with_stream(model: bytes, name: str, layers: range) -> CompiledModel:
    """The model compiled with exactly this stream (whether or not it would lower the arena)."""
    graph = parse_model(model, f"{name}.tflite")
    calls = [LOWERINGS[op.kind](op, graph) for op in graph.operators]
    stream = schedule(layers.start, tuple(calls[layers.start:layers.stop]))
    check(stream)
    plan = plan_for(graph, calls, [stream])
    assert not plan.conflicts()
    return CompiledModel(name, graph, calls, plan, [stream], generate(graph, calls, plan, [stream], name))


@pytest.mark.parametrize("kernel_path", ["dsp", "portable"])
@pytest.mark.parametrize("chain", CHAINS.values(), ids=CHAINS.keys())
def test_a_streamed_chain_gives_every_layer_of_the_reference_on_the_host(chain, kernel_path):
    in_shape, layers = chain
    model = chain_model(3, in_shape, layers)
    compiled = compiled_with_stream(model, "streamed", range(0, len(layers)))
    inputs = np.random.default_rng(5).integers(-128, 128, (3, 1, *in_shape), dtype=np.int8)
    _, dumped = host_engine_for(compiled, kernel_path).run(inputs, layers=True)
    expected = reference_layers(model, inputs, compiled.calls)
    for layer in range(len(layers)):
        assert [dumped[layer][record].tobytes() for record in range(len(inputs))] == expected[layer], f"layer {layer}"


def test_streaming_a_chain_leaves_its_inner_tensors_out_of_the_arena():
    _, layers = CHAINS["audio front: conv s2, depthwise, pointwise, depthwise s2"]
    model = chain_model(3, (64, 20, 1), layers)  # tall: a band is a small part of a tensor
    streamed = compiled_with_stream(model, "streamed", range(0, len(layers)))
    inner = [call.outputs[0] for call in streamed.calls[:-1]]
    assert not set(inner) & {p.buffer.tensor for p in streamed.plan.placements}
    stream = streamed.streams[0]
    for stage, tensor in enumerate(inner):
        assert stream.band_bytes(stage) * 4 <= streamed.graph.tensor(tensor).nbytes
    assert streamed.plan.arena_size < plan_for(streamed.graph, streamed.calls, []).arena_size


def test_the_compiler_streams_only_where_it_lowers_the_arena():
    in_shape, layers = CHAINS["audio front: conv s2, depthwise, pointwise, depthwise s2"]
    model = chain_model(3, in_shape, layers)
    compiled = compile_graph(parse_model(model, "front.tflite"), "front")
    unstreamed = plan_for(compiled.graph, compiled.calls, [])
    if compiled.streams:
        assert compiled.plan.arena_size < unstreamed.arena_size
    # A single small layer has nothing to stream.
    single = chain_model(3, (6, 6, 2), [("pointwise", 4, 1, VALID)])
    assert compile_graph(parse_model(single, "single.tflite"), "single").streams == []


@needs_emulator
def test_a_streamed_chain_on_qemu_m33_reads_back_every_layer_and_times_each():
    in_shape, layers = CHAINS["VALID strides: rows the next layer never reads"]
    model = chain_model(11, in_shape, layers)
    compiled = compiled_with_stream(model, "streamed_qemu", range(0, len(layers)))
    inputs = np.random.default_rng(2).integers(-128, 128, (2, 1, *in_shape), dtype=np.int8)
    expected = reference_layers(model, inputs, compiled.calls)
    with open_device(compiled, Board(load_target("qemu-m33"))) as device:
        outputs = device.run(inputs).outputs
        layer_bytes = [[raw for _, raw in device.layer_outputs(inputs[record])] for record in range(len(inputs))]
        timing = device.time(inputs[0], runs=2)
    assert outputs.tobytes() == b"".join(expected[-1])
    for layer in range(len(layers)):
        assert [layer_bytes[record][layer] for record in range(len(inputs))] == expected[layer], f"layer {layer}"
    # Each streamed layer's count adds up its bands: every one ran, and together within the run's total.
    assert all(ticks > 0 for ticks in timing.per_layer)
    assert sum(timing.per_layer) <= min(timing.totals)


def test_a_stream_longer_than_the_runner_takes_is_refused():
    """hil_stream_run keeps its bands' rows for at most HIL_STREAM_MAX_STAGES stages."""
    calls = tuple(fake_call(6, 1, 1, VALID) for _ in range(MAX_STREAM_LAYERS + 1))
    check(schedule(0, calls[:MAX_STREAM_LAYERS]))
    with pytest.raises(ScheduleError, match="17 layers"):
        check(schedule(0, calls))
