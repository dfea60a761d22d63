"""Static arena layout: place every activation tensor by its lifetime, largest first.

A buffer is live from the layer that writes it to the last layer that reads it (graph
inputs from before the first layer, graph outputs until after the last). Buffers whose
lifetimes overlap must not share bytes; others may. Greedy by size, lowest fitting offset,
as TFLite Micro's greedy planner does; the result is verified, never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

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
                if a.buffer.overlaps_in_time(b.buffer) and a.offset < b.end and b.offset < a.end:
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


def plan_arena(buffers: list[Buffer]) -> Plan:
    order = sorted(buffers, key=lambda b: (-b.size, b.first, b.name))
    placed: list[Placement] = []
    for buffer in order:
        offset = 0
        for other in sorted((p for p in placed if p.buffer.overlaps_in_time(buffer)), key=lambda p: p.offset):
            if offset + buffer.size <= other.offset:
                break
            offset = max(offset, _aligned(other.end))
        placed.append(Placement(buffer, offset))
    placed.sort(key=lambda p: (p.buffer.first, p.offset, p.buffer.name))
    arena = _aligned(max((p.end for p in placed), default=0))
    plan = Plan(tuple(placed), arena)
    # Checked on every compile, not only in tests: a plan that overlaps live buffers would
    # corrupt activations on the device, and then no output could be trusted.
    conflicts = plan.conflicts()
    if conflicts:
        pairs = ", ".join(f"{a.buffer.name} and {b.buffer.name}" for a, b in conflicts[:5])
        raise PlanConflict(f"internal error: the arena plan places live buffers on the same bytes ({pairs}); "
                           "this is a bug in the planner, please report it with the model")
    return plan
