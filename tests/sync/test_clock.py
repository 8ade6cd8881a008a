"""The hybrid logical clock: monotonic whatever physical time does, later than all it has seen, strings that sort."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.clock import MAX_COUNTER, MAX_WALL, Clock, ClockError, ClockSkew, Hlc

NODES = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
ANY_HLC = st.builds(Hlc, wall=st.integers(0, MAX_WALL), counter=st.integers(0, MAX_COUNTER), node=NODES)
# Small ranges so that physical time stands still, goes back, and meets remote walls often.
PHYSICAL = st.integers(0, 40)
REMOTE = st.builds(Hlc, wall=st.integers(0, 50), counter=st.integers(0, 6), node=st.sampled_from(["b", "c"]))
EVENTS = st.lists(st.tuples(PHYSICAL, st.none() | REMOTE), max_size=40)


class FakeTime:
    def __init__(self, ms: int = 0) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def time_of(stamp: Hlc) -> tuple[int, int]:
    return (stamp.wall, stamp.counter)


@settings(max_examples=200, deadline=None)
@given(EVENTS)
def test_stamps_strictly_increase_whatever_physical_time_does(events: list[tuple[int, Hlc | None]]) -> None:
    time = FakeTime()
    clock = Clock("a", physical=time)
    previous: Hlc | None = None
    for physical, remote in events:
        time.ms = physical
        stamp = clock.now() if remote is None else clock.receive(remote)
        assert stamp.node == "a"
        if previous is not None:
            assert time_of(stamp) > time_of(previous)
        previous = stamp


@settings(max_examples=200, deadline=None)
@given(EVENTS)
def test_wall_is_the_greatest_time_seen_so_far(events: list[tuple[int, Hlc | None]]) -> None:
    time = FakeTime()
    clock = Clock("a", physical=time)
    seen = 0
    for physical, remote in events:
        time.ms = physical
        stamp = clock.now() if remote is None else clock.receive(remote)
        seen = max(seen, physical, remote.wall if remote else 0)
        assert stamp.wall == seen


@settings(max_examples=200, deadline=None)
@given(st.lists(PHYSICAL, min_size=1, max_size=20), REMOTE, PHYSICAL)
def test_receive_is_later_than_both_the_local_clock_and_the_remote(
    history: list[int], remote: Hlc, physical: int
) -> None:
    time = FakeTime()
    clock = Clock("a", physical=time)
    for ms in history:
        time.ms = ms
        clock.now()
    before = clock.last
    time.ms = physical
    stamp = clock.receive(remote)
    assert time_of(stamp) > time_of(before)
    assert time_of(stamp) > time_of(remote)


@settings(max_examples=200, deadline=None)
@given(ANY_HLC, ANY_HLC)
def test_string_form_sorts_like_the_clock(a: Hlc, b: Hlc) -> None:
    assert (a.stamp < b.stamp) == (time_of(a) < time_of(b))
    assert (a.stamp == b.stamp) == (time_of(a) == time_of(b))


@settings(max_examples=200, deadline=None)
@given(ANY_HLC)
def test_parse_and_stamp_round_trip(stamp: Hlc) -> None:
    assert len(stamp.stamp) == 17
    assert Hlc.parse(stamp.stamp, stamp.node) == stamp


def test_counter_overflow_on_now_is_refused_and_leaves_the_clock_unchanged() -> None:
    clock = Clock("a", physical=FakeTime(1000))
    clock.receive(Hlc(1000, MAX_COUNTER - 1, "b"))
    assert time_of(clock.last) == (1000, MAX_COUNTER)
    with pytest.raises(ClockError, match="overflow"):
        clock.now()
    assert time_of(clock.last) == (1000, MAX_COUNTER)


def test_counter_overflow_on_receive_is_refused_and_leaves_the_clock_unchanged() -> None:
    clock = Clock("a", physical=FakeTime(1000))
    before = clock.now()
    with pytest.raises(ClockError, match="overflow"):
        clock.receive(Hlc(2000, MAX_COUNTER, "b"))
    assert clock.last == before


def test_a_clock_catches_up_after_overflow_when_physical_time_moves_on() -> None:
    time = FakeTime(1000)
    clock = Clock("a", physical=time)
    clock.receive(Hlc(1000, MAX_COUNTER - 1, "b"))
    time.ms = 1001
    assert time_of(clock.now()) == (1001, 0)


def test_a_remote_too_far_ahead_of_physical_time_is_refused_as_skew() -> None:
    clock = Clock("a", physical=FakeTime(5000), max_drift_ms=1000)
    before = clock.now()
    with pytest.raises(ClockSkew) as skew:
        clock.receive(Hlc(6001, 0, "b"))
    assert (skew.value.remote_wall, skew.value.local_wall) == (6001, 5000)
    assert isinstance(skew.value, ClockError)
    assert clock.last == before


def test_a_remote_exactly_at_the_drift_bound_is_accepted() -> None:
    clock = Clock("a", physical=FakeTime(5000), max_drift_ms=1000)
    assert time_of(clock.receive(Hlc(6000, 3, "b"))) == (6000, 4)


@pytest.mark.parametrize(
    ("wall", "counter", "node"),
    [
        (-1, 0, "a"),
        (MAX_WALL + 1, 0, "a"),
        (0, -1, "a"),
        (0, MAX_COUNTER + 1, "a"),
        (0, 0, ""),
        (0, 0, "a b"),
        (0, 0, "n" * 65),
        (0, 0, "北京"),
    ],
)
def test_an_hlc_out_of_range_or_with_a_bad_node_is_refused(wall: int, counter: int, node: str) -> None:
    with pytest.raises(ValueError):
        Hlc(wall, counter, node)


@pytest.mark.parametrize(
    "stamp", ["", "3e8-0", "0000000003E8-0000", "0000000003e8_0000", "0000000003e8-00000", "1000000000000-0000"]
)
def test_parse_refuses_what_is_not_a_stamp(stamp: str) -> None:
    with pytest.raises(ValueError):
        Hlc.parse(stamp, "a")
