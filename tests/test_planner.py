"""The arena planner: live buffers never share bytes, and the check that says so can fail."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compiler.lowering import InPlaceRule
from harness.compiler.planner import ALIGNMENT, Buffer, InPlace, Placement, Plan, plan_arena


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

    monkeypatch.setattr(planner, "_lowest_base", lambda unit, placed: 0)  # every buffer placed at offset 0
    with pytest.raises(planner.PlanConflict, match="a and b"):
        plan_arena([Buffer("a", 100, 0, 2), Buffer("b", 100, 1, 3)])


# --- in place -----------------------------------------------------------------------------------

EXPAND = InPlaceRule(min_tail=1024)  # a pointwise convolution from 1 KiB to 2 KiB: input at least 1 KiB in
ANY_PIXEL = InPlaceRule(min_tail=None, step=32)  # a depthwise convolution of 32 channels


def chain():
    """t0 -(layer 0, expands)-> t1 -(layer 1, depthwise, halves)-> t2, the layers' scratch beside."""
    buffers = [Buffer("t0", 1024, 0, 0, tensor=0), Buffer("t1", 2048, 0, 1, tensor=1),
               Buffer("t2", 512, 1, 2, tensor=2), Buffer("scratch1", 100, 1, 1)]
    pairs = (InPlace(0, 1, 0, EXPAND), InPlace(1, 2, 1, ANY_PIXEL))
    return buffers, pairs


def test_an_in_place_chain_stays_within_its_largest_member():
    buffers, pairs = chain()
    plan = plan_arena(buffers, pairs)
    assert plan.shared == pairs and plan.conflicts() == []
    t0, t1, t2 = (plan.offset_of(name) for name in ("t0", "t1", "t2"))
    assert t0 - t1 == 1024 and (t1 - t2) % 32 == 0  # each at an offset its kernel allows
    assert plan.arena_size == 2048 + 112  # the chain in 2 KiB, the scratch beside it
    assert plan_arena(buffers).arena_size == 2048 + 1024  # without: t0 beside t1, t2 and the scratch where t0 was


def test_the_check_allows_an_in_place_overlap_only_where_the_kernel_does():
    buffers, pairs = chain()
    t0, t1 = buffers[0], buffers[1]
    fine = Plan((Placement(t0, 1024), Placement(t1, 0)), 2048, pairs)
    assert fine.conflicts() == []
    too_close = Plan((Placement(t0, 512), Placement(t1, 0)), 2048, pairs)  # input less than 1 KiB in
    assert len(too_close.conflicts()) == 1
    not_declared = Plan((Placement(t0, 1024), Placement(t1, 0)), 2048, ())
    assert len(not_declared.conflicts()) == 1
    off_grid = Plan((Placement(buffers[1], 0), Placement(buffers[2], 16)), 2048, pairs)  # half a pixel away
    assert len(off_grid.conflicts()) == 1
    later = Buffer("t1", 2048, 0, 2, tensor=1)  # the input still read after the layer: never shared
    assert len(Plan((Placement(later, 0), Placement(buffers[2], 0)), 2048, pairs).conflicts()) == 1


@st.composite
def chains(draw):
    """Random chains of in-place layers among other buffers."""
    buffers = draw(buffer_sets())
    length = draw(st.integers(2, 6))
    start, base = draw(st.integers(0, 8)), len(buffers)
    pairs = []
    for i in range(length):
        size = draw(st.integers(1, 64)) * 32
        buffers.append(Buffer(f"c{i}", size, start + max(i - 1, 0), start + i, tensor=base + i))
        if i:
            grow = max(0, size - buffers[-2].size)
            rule = draw(st.sampled_from([InPlaceRule(min_tail=grow), InPlaceRule(min_tail=None, step=32)]))
            pairs.append(InPlace(base + i - 1, base + i, start + i - 1, rule))
    return buffers, tuple(pairs)


@settings(max_examples=100, deadline=None)
@given(chains())
def test_plans_with_in_place_chains_are_valid_and_never_larger(case):
    buffers, pairs = case
    plan = plan_arena(buffers, pairs)
    assert plan.conflicts() == []
    assert all(p.offset % ALIGNMENT == 0 for p in plan.placements)
    assert plan.arena_size <= plan_arena(buffers).arena_size
    for pair in plan.shared:
        source, result = (next(p for p in plan.placements if p.buffer.tensor == t) for t in (pair.input, pair.output))
        assert pair.rule.allows(source.offset - result.offset)
