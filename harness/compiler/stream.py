"""Streams: a chain of layers run a few rows at a time, so its inner tensors never exist whole.

A stream is consecutive layers whose kernels run on bands of output rows (KernelCall.band_scratch),
each reading only the previous one's output. Its first layer reads a whole tensor of the arena and
its last writes a whole tensor; every layer in between keeps only a band of its output rows, in a
buffer of its own, as the next layer still needs them: the arithmetic is each kernel's own, row for
row, so the outputs are those of the layers run one after the other (the idea behind patch-based
inference in MCUNetV2, without recomputation: every row is computed once).

The schedule is worked out here, as a list of steps the firmware runs as given (kernels/hil_stream.h):
a step names a stage, the first of its rows it still keeps (rows below are dropped: the band moves
down) and how many more rows it computes. `check` replays a schedule and proves each read finds its
rows in the band, each write fits, and every layer computes every output row exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.compiler.lowering import KernelCall

MAX_STEP_ROWS = 255  # a step's row count and the rows it drops are uint8_t in C (hil_stream_step)
MAX_STREAM_LAYERS = 16  # HIL_STREAM_MAX_STAGES: the C runner's bound (hil_stream.h)


@dataclass(frozen=True)
class Step:
    stage: int  # index in the stream
    keep: int  # first row the stage's band keeps before this step (rows below it are dropped)
    count: int  # rows computed, following the last one computed


@dataclass(frozen=True)
class Stream:
    first_layer: int
    calls: tuple[KernelCall, ...]
    batches: tuple[int, ...]  # rows each stage computes at least per step (schedule)
    steps: tuple[Step, ...]
    band_rows: tuple[int, ...]  # rows each stage but the last keeps at most

    @property
    def name(self) -> str:
        return f"stream{self.first_layer:02d}"

    def band_name(self, stage: int) -> str:
        return f"{self.name}_band{stage}"

    @property
    def scratch_name(self) -> str:
        return f"{self.name}_scratch"

    @property
    def layers(self) -> range:
        return range(self.first_layer, self.first_layer + len(self.calls))

    @property
    def last_layer(self) -> int:
        return self.first_layer + len(self.calls) - 1

    def row_bytes(self, stage: int) -> int:
        out = self.calls[stage].params["output"]
        return out.w * out.c

    def band_bytes(self, stage: int) -> int:
        return self.band_rows[stage] * self.row_bytes(stage)

    def encoded_steps(self) -> list[tuple[int, int, int]]:
        """The steps as hil_stream_step holds them: (stage, count, rows dropped first)."""
        lo, encoded = [0] * len(self.calls), []
        for step in self.steps:
            encoded.append((step.stage, step.count, step.keep - lo[step.stage]))
            lo[step.stage] = step.keep
        return encoded

    @property
    def scratch_bytes(self) -> int:
        """One scratch for every step: the largest any of them needs."""
        return max((self.calls[s.stage].band_scratch(self.calls[s.stage], s.count) for s in self.steps), default=0)


def output_rows(call: KernelCall) -> int:
    return call.params["output"].h


def input_window(call: KernelCall, first: int, count: int) -> tuple[int, int]:
    """The input rows [lo, hi) that output rows [first, first + count) read, inside the image (the
    rows outside it are padding, which the kernel reads as the zero point); hil_stream.c's rule."""
    p = call.params
    top = first * p["stride_h"] - p["pad_h"]
    bottom = (first + count - 1) * p["stride_h"] - p["pad_h"] + (p["filter"].h - 1) * p["dilation_h"] + 1
    return max(top, 0), min(bottom, p["input"].h)


def streamable(call: KernelCall) -> bool:
    return call.band_scratch is not None and call.params["input"].n == 1 and output_rows(call) <= 0xFFFF


def chains(calls: list[KernelCall], consumers: dict[int, list[int]], kept: set[int]) -> list[range]:
    """Maximal runs of consecutive streamable layers, each reading the one before's output, which no
    other layer reads and the model does not return (`kept`: the graph's outputs)."""
    runs, start = [], None
    for layer, call in enumerate(calls):
        links = (start is not None and call.inputs[0] == calls[layer - 1].outputs[0]
                 and consumers.get(call.inputs[0]) == [layer] and call.inputs[0] not in kept)
        if streamable(call) and links:
            continue
        if start is not None and layer - start >= 2:
            runs.append(range(start, layer))
        start = layer if streamable(call) else None
    if start is not None and len(calls) - start >= 2:
        runs.append(range(start, len(calls)))
    return runs


def schedule(first_layer: int, calls: tuple[KernelCall, ...], batches: tuple[int, ...] | None = None) -> Stream:
    """The last layer's rows a batch at a time, each stage computing the rows the next one needs (at
    least its own batch of rows, if the layer has them), dropping the rows no later step reads; then
    the rows no later stage needed, so every layer is whole. Larger batches: fewer, longer kernel
    calls, larger bands. Default: one row at a time everywhere."""
    n = len(calls)
    batches = batches or (1,) * n
    lo, hi, band_rows, steps = [0] * n, [0] * n, [0] * n, []

    def produce(stage: int, need: int, keep: int) -> None:
        if hi[stage] >= need:
            return
        need = min(max(need, hi[stage] + batches[stage]), output_rows(calls[stage]))
        if stage > 0:
            window_lo, window_hi = input_window(calls[stage], hi[stage], need - hi[stage])
            produce(stage - 1, window_hi, window_lo)
        keep = max(keep, lo[stage])
        steps.append(Step(stage, keep, need - hi[stage]))
        lo[stage], hi[stage] = keep, need
        band_rows[stage] = max(band_rows[stage], hi[stage] - lo[stage])

    for row in range(output_rows(calls[-1])):
        produce(n - 1, row + 1, 0)
    for stage in range(n - 2, -1, -1):  # rows past what the last layer read (e.g. a VALID stride)
        produce(stage, output_rows(calls[stage]), hi[stage])
    return Stream(first_layer, calls, batches, tuple(steps), tuple(band_rows[:-1]))


class ScheduleError(RuntimeError):
    """A stream's schedule would read rows its band does not hold, or overflow a band."""


def check(stream: Stream) -> None:
    """Replay the schedule as hil_stream.c runs it; raise ScheduleError on the first broken rule."""
    calls, n = stream.calls, len(stream.calls)
    if not 2 <= n <= MAX_STREAM_LAYERS:
        raise ScheduleError(f"stream at layer {stream.first_layer}: {n} layers; 2 to {MAX_STREAM_LAYERS} can stream")
    lo, hi = [0] * n, [0] * n
    for index, step in enumerate(stream.steps):
        where = f"stream at layer {stream.first_layer}, step {index}"
        if not 0 <= step.stage < n or not 1 <= step.count <= MAX_STEP_ROWS:
            raise ScheduleError(f"{where}: stage {step.stage} or row count {step.count} out of range")
        stage, last = step.stage, step.stage == n - 1
        if (step.keep < lo[stage] or step.keep > hi[stage] or step.keep - lo[stage] > MAX_STEP_ROWS
                or (last and step.keep != 0)):
            raise ScheduleError(f"{where}: keeps from row {step.keep}, its band holds [{lo[stage]}, {hi[stage]})")
        lo[stage] = step.keep
        if stage > 0:
            window = input_window(calls[stage], hi[stage], step.count)
            if window[0] < lo[stage - 1] or window[1] > hi[stage - 1]:
                raise ScheduleError(f"{where}: reads rows [{window[0]}, {window[1]}) of the previous layer, "
                                    f"whose band holds [{lo[stage - 1]}, {hi[stage - 1]})")
        hi[stage] += step.count
        if hi[stage] > output_rows(calls[stage]) or (not last and hi[stage] - lo[stage] > stream.band_rows[stage]):
            raise ScheduleError(f"{where}: rows [{lo[stage]}, {hi[stage]}) overflow the band")
    missing = [stage for stage in range(n) if hi[stage] != output_rows(calls[stage])]
    if missing:
        raise ScheduleError(f"stream at layer {stream.first_layer}: stages {missing} do not compute every row")
