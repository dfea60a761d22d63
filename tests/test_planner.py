"""The arena planner: live buffers never share bytes, and the check that says so can fail."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.planner import ALIGNMENT, Buffer, Placement, Plan, plan_arena


@st.composite
def buffer_sets(draw):
    count = draw(st.integers(1, 25))
    buffers = []
    for i in range(count):
        first = draw(st.integers(0, 15))
        last = draw(st.integers(first, 15))
        buffers.append(Buffer(f"b{i}", draw(st.integers(1, 5000)), first, last, tensor=i))
    return buffers


@settings(max_examples=300, deadline=None)
@given(buffer_sets())
def test_no_two_live_buffers_overlap(buffers):
    plan = plan_arena(buffers)
    assert plan.conflicts() == []
    assert sorted(p.buffer.name for p in plan.placements) == sorted(b.name for b in buffers)
    assert all(p.offset % ALIGNMENT == 0 for p in plan.placements)
    assert plan.arena_size >= max(p.end for p in plan.placements)
    # Never worse than giving every buffer its own slot.
    assert plan.arena_size <= sum(-(-b.size // ALIGNMENT) * ALIGNMENT for b in buffers)


def test_conflict_check_catches_overlapping_live_buffers():
    a, b = Buffer("a", 100, 0, 2), Buffer("b", 100, 1, 3)
    bad = Plan((Placement(a, 0), Placement(b, 50)), 160)
    assert [(x.buffer.name, y.buffer.name) for x, y in bad.conflicts()] == [("a", "b")]


def test_buffers_with_disjoint_lifetimes_share_memory():
    plan = plan_arena([Buffer("a", 1000, 0, 1), Buffer("b", 1000, 2, 3), Buffer("c", 10, 0, 3)])
    assert plan.offset_of("a") == plan.offset_of("b")
    assert plan.arena_size == 1024  # c fits after a (1000 -> aligned 1008), 1018 -> 1024


def test_peak_at_layer_counts_only_live_buffers():
    plan = plan_arena([Buffer("a", 64, 0, 0), Buffer("b", 32, 1, 1)])
    assert plan.peak_at(0) == 64 and plan.peak_at(1) == 32


def test_every_plan_is_checked_for_overlapping_live_buffers(monkeypatch):
    """A planner that breaks its rule fails the compile, not the device."""
    from harness.compiler import planner

    monkeypatch.setattr(planner, "_aligned", lambda value: 0)  # every buffer placed at offset 0
    with pytest.raises(planner.PlanConflict, match="a and b"):
        plan_arena([Buffer("a", 100, 0, 2), Buffer("b", 100, 1, 3)])
