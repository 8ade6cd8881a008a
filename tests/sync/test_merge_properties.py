"""Merging converges: commutative, associative, idempotent, whatever the delivery order, duplication or loss.

Changes come from a small universe (2 tables, 3 rows, 3 columns and `_cl`, 3 nodes, a handful of stamps) so that
the same field, the same stamp and even the same version collide often.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from sync.changes import CAUSAL_LENGTH, Change, wins
from sync.checksum import state_checksum
from sync.clock import Clock, Hlc
from sync.merge import Replica

TABLES = ("store", "visit")
ROWS = ("r1", "r2", "r3")
COLUMNS = ("name", "phone", "note")
NODES = ("a", "b", "c")
PROPERTY = settings(max_examples=200, deadline=None)

stamps = st.builds(lambda wall, counter: f"{wall:012x}-{counter:04x}", st.integers(0, 3), st.integers(0, 1))
# Booleans beside small integers on purpose: 1 and true are different JSON values.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1, 2) | st.text("ab", max_size=2),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("xy"), inner, max_size=2),
    max_leaves=3,
)


@st.composite
def changes(draw: st.DrawFn) -> Change:
    column = draw(st.sampled_from((*COLUMNS, CAUSAL_LENGTH)))
    value = draw(st.integers(1, 5)) if column == CAUSAL_LENGTH else draw(json_values)
    return Change(
        table=draw(st.sampled_from(TABLES)),
        row=draw(st.sampled_from(ROWS)),
        column=column,
        value=value,
        hlc=draw(stamps),
        node=draw(st.sampled_from(NODES)),
    )


def lookalikes(value: Any) -> list[Any]:
    """Values Python's == confuses with `value` although their JSON differs (True == 1, False == 0)."""
    if isinstance(value, bool):
        return [int(value)]
    if isinstance(value, int) and value in (0, 1):
        return [bool(value)]
    return []


@st.composite
def sibling(draw: st.DrawFn, base: Change) -> Change:
    """A change that collides with `base`: a duplicate, the same version, the same stamp, or the same field."""
    mode = draw(st.sampled_from(["duplicate", "same version", "same stamp", "same field"]))
    if mode == "duplicate":
        return base
    if base.column == CAUSAL_LENGTH:
        value = draw(st.integers(1, 5))
    else:
        value = draw(st.sampled_from(lookalikes(base.value) or [base.value]) | json_values)
    hlc = base.hlc if mode in ("same version", "same stamp") else draw(stamps)
    node = base.node if mode == "same version" else draw(st.sampled_from(NODES))
    return Change(table=base.table, row=base.row, column=base.column, value=value, hlc=hlc, node=node)


@st.composite
def change_lists(draw: st.DrawFn, min_size: int = 0, max_size: int = 12) -> list[Change]:
    """Changes where many collide with an earlier one, so ties and duplicates are common, not rare."""
    made: list[Change] = []
    for _ in range(draw(st.integers(min_size, max_size))):
        fresh = not made or draw(st.booleans())
        made.append(draw(changes()) if fresh else draw(sibling(draw(st.sampled_from(made)))))
    return made


@st.composite
def change_pairs(draw: st.DrawFn) -> tuple[Change, Change]:
    first = draw(changes())
    return first, draw(changes() | sibling(first))


def replica_of(changes: Iterable[Change]) -> Replica:
    replica = Replica()
    replica.apply_all(changes)
    return replica


def exact(value: Any) -> str:
    """Type-exact form for comparisons: Python's == calls 1 and True equal, JSON does not."""
    return json.dumps(msgspec.to_builtins(value), sort_keys=True)


def snapshot(replica: Replica) -> list[str]:
    """Replica.state() in a type-exact, order-free form."""
    return sorted(
        exact([key, column, version]) for key, fields in replica.state().items() for column, version in fields.items()
    )


def live_rows(replica: Replica) -> str:
    return exact({table: replica.rows(table) for table in TABLES})


def same(a: Change, b: Change) -> bool:
    return exact(a) == exact(b)


@PROPERTY
@given(change_pairs())
def test_merge_is_commutative(pair: tuple[Change, Change]) -> None:
    first, second = pair
    assert snapshot(replica_of([first, second])) == snapshot(replica_of([second, first]))


@PROPERTY
@given(change_lists(max_size=6), change_lists(max_size=6), change_lists(max_size=6))
def test_merge_is_associative(a: list[Change], b: list[Change], c: list[Change]) -> None:
    left = replica_of(a + b)
    left.apply_all(replica_of(c).changes())
    right = replica_of(a)
    right.apply_all(replica_of(b + c).changes())
    assert snapshot(left) == snapshot(right)


@PROPERTY
@given(change_lists())
def test_merge_is_idempotent(changes: list[Change]) -> None:
    replica = replica_of(changes)
    before = snapshot(replica)
    for change in changes:
        assert not replica.apply(change)
    assert replica.apply_all(replica.changes()) == 0
    assert snapshot(replica) == before


@PROPERTY
@given(change_lists(min_size=1), st.integers(2, 6), st.data())
def test_any_delivery_among_replicas_converges(changes: list[Change], count: int, data: st.DataObject) -> None:
    replicas = [Replica() for _ in range(count)]
    everyone = st.integers(0, count - 1)
    for change in changes:
        replicas[data.draw(everyone)].apply(change)
    # Gossip: a replica forwards part of its state, with loss, duplication and reordering.
    for _ in range(data.draw(st.integers(0, 10))):
        source, target = data.draw(everyone), data.draw(everyone)
        held = replicas[source].changes()
        if held:
            replicas[target].apply_all(data.draw(st.lists(st.sampled_from(held), max_size=6)))
    # In the end each replica receives every change, in its own order, some of them twice.
    for replica in replicas:
        replica.apply_all(data.draw(st.permutations(changes)) + data.draw(st.lists(st.sampled_from(changes))))
    first = replicas[0]
    for replica in replicas[1:]:
        assert snapshot(replica) == snapshot(first)
        assert live_rows(replica) == live_rows(first)
        assert state_checksum(replica.changes()) == state_checksum(first.changes())


def greatest(candidates: list[Change]) -> Change:
    """The one change that beats every other (so `wins` must be a total order on them)."""
    top = [c for c in candidates if all(same(c, other) or wins(c, other) for other in candidates)]
    assert len({exact(c) for c in top}) == 1, f"no single greatest change among {candidates}"
    return top[0]


@PROPERTY
@given(change_lists())
def test_each_field_holds_the_greatest_change_under_wins(changes: list[Change]) -> None:
    by_field: dict[tuple[str, str, str], list[Change]] = {}
    for change in changes:
        by_field.setdefault(change.key, []).append(change)
    expected = sorted(exact(greatest(candidates)) for candidates in by_field.values())
    assert sorted(exact(c) for c in replica_of(changes).changes()) == expected


@PROPERTY
@given(change_lists())
def test_a_row_is_live_exactly_when_its_greatest_causal_length_is_odd(changes: list[Change]) -> None:
    replica = replica_of(changes)
    for table in TABLES:
        live = replica.rows(table)
        for row in ROWS:
            lengths = [c.value for c in changes if (c.table, c.row, c.column) == (table, row, CAUSAL_LENGTH)]
            assert (row in live) == (bool(lengths) and max(lengths) % 2 == 1)


class Offline(RuleBasedStateMachine):
    """Replicas that edit with their own clocks and exchange random, lossy, duplicated, reordered batches."""

    def __init__(self) -> None:
        super().__init__()
        self.time = 1_000
        self.offsets = {"a": 0, "b": 7, "c": -5}  # the phones' clocks disagree
        self.clocks = {node: Clock(node, physical=self._physical(node)) for node in NODES}
        self.replicas = {node: Replica() for node in NODES}
        self.known: dict[str, list[Change]] = {node: [] for node in NODES}
        self.made: list[Change] = []

    def _physical(self, node: str) -> Any:
        return lambda: max(0, self.time + self.offsets[node])

    def _make(self, node: str, change: Change) -> None:
        replica = self.replicas[node]
        current = replica.fields.get((change.table, change.row), {}).get(change.column)
        # An edit stamped after everything its replica has seen beats what the replica holds.
        assert current is None or wins(change, current)
        assert replica.apply(change)
        self.known[node].append(change)
        self.made.append(change)

    @rule(step=st.integers(-3, 10))
    def physical_time_moves(self, step: int) -> None:
        self.time = max(0, self.time + step)

    @rule(
        node=st.sampled_from(NODES),
        table=st.sampled_from(TABLES),
        row=st.sampled_from(ROWS),
        column=st.sampled_from(COLUMNS),
        value=json_values,
    )
    def edit(self, node: str, table: str, row: str, column: str, value: Any) -> None:
        stamp = self.clocks[node].now()
        self._make(node, Change(table=table, row=row, column=column, value=value, hlc=stamp.stamp, node=node))

    @rule(node=st.sampled_from(NODES), table=st.sampled_from(TABLES), row=st.sampled_from(ROWS))
    def create_delete_or_restore(self, node: str, table: str, row: str) -> None:
        length = self.replicas[node].causal_length(table, row) or 0
        stamp = self.clocks[node].now()
        change = Change(table=table, row=row, column=CAUSAL_LENGTH, value=length + 1, hlc=stamp.stamp, node=node)
        self._make(node, change)

    # (`target` is reserved by hypothesis's rule(), hence `receiver`.)
    @rule(source=st.sampled_from(NODES), receiver=st.sampled_from(NODES), data=st.data())
    def send(self, source: str, receiver: str, data: st.DataObject) -> None:
        if not self.known[source]:
            return
        batch = data.draw(st.lists(st.sampled_from(self.known[source]), max_size=8))
        self._deliver(receiver, batch)

    def _deliver(self, receiver: str, batch: Iterable[Change]) -> None:
        for change in batch:
            self.clocks[receiver].receive(Hlc.parse(change.hlc, change.node))
            self.replicas[receiver].apply(change)
            self.known[receiver].append(change)

    def teardown(self) -> None:
        for node in NODES:
            self._deliver(node, list(self.made))
        states = {node: snapshot(replica) for node, replica in self.replicas.items()}
        assert states["a"] == states["b"] == states["c"]
        final = self.replicas["a"]
        for change in self.made:
            winner = final.fields[(change.table, change.row)][change.column]
            assert same(winner, change) or wins(winner, change), f"{change} lost to {winner}, which does not win"


Offline.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
test_offline_replicas_converge = Offline.TestCase
