"""Static arena layout: place every activation tensor by its lifetime, largest first.

A buffer is live from the layer that writes it to the last layer that reads it (graph
inputs from before the first layer, graph outputs until after the last). Buffers whose
lifetimes overlap must not share bytes; others may. Greedy by size, lowest fitting offset,
as TFLite Micro's greedy planner does; the result is verified, never trusted.

One exception: a kernel that can work in place (InPlace) may have its output on the bytes of its
input, whose last reader it is, at the one offset its kernel allows. A chain of such layers is
placed as one unit; the plan with the chains is kept when its arena is smaller than the plan
without them. The check allows exactly those overlaps, at exactly those offsets and layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.compiler.lowering import InPlaceRule

ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int
    first: int  # first layer during which it is live
    last: int  # last layer during which it is live (inclusive)
    tensor: int | None = None  # TFLite tensor index; None for a kernel's scratch

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class InPlace:
    """At `layer`, the kernel may write tensor `output` over tensor `input` (its last reader there),
    at the offsets its rule allows (harness.compiler.lowering.InPlaceRule)."""

    input: int
    output: int
    layer: int
    rule: InPlaceRule

    @property
    def grid(self) -> int:
        """Tails the rule allows and the arena's alignment keeps: multiples of this."""
        return math.lcm(self.rule.step, ALIGNMENT)


@dataclass(frozen=True)
class Placement:
    buffer: Buffer
    offset: int

    @property
    def end(self) -> int:
        return self.offset + self.buffer.size


@dataclass(frozen=True)
class Plan:
    placements: tuple[Placement, ...]
    arena_size: int
    shared: tuple[InPlace, ...] = ()  # the in-place pairs the plan took

    def _shares(self, a: Placement, b: Placement) -> bool:
        """a and b are an in-place pair of the plan, at exactly the offsets and times it allows."""
        for pair in self.shared:
            for source, result in ((a, b), (b, a)):
                if (source.buffer.tensor, result.buffer.tensor) == (pair.input, pair.output):
                    return (pair.rule.allows(source.offset - result.offset)
                            and source.buffer.last == pair.layer == result.buffer.first)
        return False

    def offset_of_tensor(self, tensor: int) -> int:
        for placement in self.placements:
            if placement.buffer.tensor == tensor:
                return placement.offset
        raise KeyError(f"tensor {tensor} is not in the plan")

    def offset_of(self, name: str) -> int:
        for placement in self.placements:
            if placement.buffer.name == name:
                return placement.offset
        raise KeyError(f"buffer {name} is not in the plan")

    def conflicts(self) -> list[tuple[Placement, Placement]]:
        """Pairs of buffers live at the same time whose bytes overlap (empty for a valid plan)."""
        found = []
        for i, a in enumerate(self.placements):
            for b in self.placements[i + 1:]:
                if (a.buffer.overlaps_in_time(b.buffer) and a.offset < b.end and b.offset < a.end
                        and not self._shares(a, b)):
                    found.append((a, b))
        return found

    def peak_at(self, layer: int) -> int:
        """Bytes of the arena in use at one layer: the highest end of a live buffer."""
        live = [p.end for p in self.placements if p.buffer.first <= layer <= p.buffer.last]
        return max(live, default=0)


class PlanConflict(RuntimeError):
    """The planner broke its own rule: two buffers live at the same time share bytes."""


def _aligned(value: int) -> int:
    return (value + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _chains(buffers: list[Buffer], pairs: tuple[InPlace, ...]) -> list[list[tuple[Buffer, int]]]:
    """The buffers as units to place: an in-place chain (each tensor written over the one before)
    as one unit with each member's offset relative to the unit, every other buffer alone."""
    by_tensor = {b.tensor: b for b in buffers if b.tensor is not None}
    after = {pair.input: pair for pair in pairs}  # a tensor's last reader writes over it
    before = {pair.output: pair for pair in pairs}
    units, seen = [], set()
    for buffer in buffers:
        if buffer.tensor is None:
            units.append([(buffer, 0)])
            continue
        if buffer.tensor in seen or buffer.tensor in before:
            continue  # placed with the head of its chain
        # Every member as high as its rule lets it be without passing the chain's end (offset 0
        # here): a chain that grows and shrinks then stays within its largest member.
        unit, tensor, offset = [], buffer.tensor, -_aligned(buffer.size)
        while True:
            unit.append((by_tensor[tensor], offset))
            seen.add(tensor)
            pair = after.get(tensor)
            if pair is None:
                break
            tensor = pair.output
            highest = -by_tensor[tensor].size
            if pair.rule.min_tail is not None:
                highest = min(highest, offset - pair.rule.min_tail)
            offset += (highest - offset) // pair.grid * pair.grid  # the input stays a whole grid away
        low = min(offset for _, offset in unit)
        units.append([(member, offset - low) for member, offset in unit])
    return units


def _fits(unit: list[tuple[Buffer, int]], base: int, placed: list[Placement]) -> bool:
    return all(
        not (member.overlaps_in_time(other.buffer) and base + offset < other.end
             and other.offset < base + offset + member.size)
        for member, offset in unit for other in placed
    )


def _lowest_base(unit: list[tuple[Buffer, int]], placed: list[Placement]) -> int:
    """The lowest aligned offset where no member of the unit meets a buffer live at its time."""
    meeting = [(offset, other) for member, offset in unit for other in placed if member.overlaps_in_time(other.buffer)]
    # Above everything it meets, the unit always fits: the last candidate.
    candidates = {0, max((_aligned(other.end) for _, other in meeting), default=0)}
    candidates |= {_aligned(other.end) - offset for offset, other in meeting}
    return min(base for base in candidates if base >= 0 and _fits(unit, base, placed))


def _place(buffers: list[Buffer], pairs: tuple[InPlace, ...]) -> Plan:
    units = sorted(_chains(buffers, pairs),
                   key=lambda unit: (-max(m.size for m, _ in unit), min(m.first for m, _ in unit), unit[0][0].name))
    placed: list[Placement] = []
    for unit in units:
        base = _lowest_base(unit, placed)
        placed += [Placement(member, base + offset) for member, offset in unit]
    placed.sort(key=lambda p: (p.buffer.first, p.offset, p.buffer.name))
    return Plan(tuple(placed), _aligned(max((p.end for p in placed), default=0)), pairs)


def plan_arena(buffers: list[Buffer], in_place: tuple[InPlace, ...] = ()) -> Plan:
    """The smaller of the plans with and without the in-place chains (a chain placed as one unit
    can cost more than it saves)."""
    plans = [_place(buffers, ())] + ([_place(buffers, in_place)] if in_place else [])
    plan = min(plans, key=lambda plan: (plan.arena_size, -len(plan.shared)))
    # Checked on every compile, not only in tests: a plan that overlaps live buffers would
    # corrupt activations on the device, and then no output could be trusted.
    conflicts = plan.conflicts()
    if conflicts:
        pairs = ", ".join(f"{a.buffer.name} and {b.buffer.name}" for a, b in conflicts[:5])
        raise PlanConflict(f"internal error: the arena plan places live buffers on the same bytes ({pairs}); "
                           "this is a bug in the planner, please report it with the model")
    return plan
