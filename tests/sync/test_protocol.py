"""The sans-IO engine `handle()` against MemoryStore: pushes, rejections, refusals, paging, checksums and scope."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import pytest

from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change
from sync.checksum import state_checksum
from sync.clock import Clock
from sync.merge import Replica
from sync.protocol import Limits, SyncRefused, handle
from sync.store import ChangeStore, MemoryStore, Rejection, Scope

T = 1_700_000_000_000  # the server's physical time, fixed


def stamp(offset_ms: int = -1000, counter: int = 0) -> str:
    return f"{T + offset_ms:012x}-{counter:04x}"


def change(
    node: str, row: str = "s1", column: str = "name", value: Any = "x", offset_ms: int = -1000, *, table: str = "store"
) -> Change:
    return Change(table=table, row=row, column=column, value=value, hlc=stamp(offset_ms), node=node)


def request(client: str, changes: Sequence[Change] = (), cursor: str | None = None, **fields: Any) -> m.SyncRequest:
    values = {"protocol": 1, "schema_version": 1, **fields}
    return m.SyncRequest(client_id=client, cursor=cursor, changes=list(changes), **values)


def exact(value: Any) -> str:
    return json.dumps(msgspec.to_builtins(value), sort_keys=True)


def snapshot(replica: Replica) -> list[str]:
    return sorted(exact(c) for c in replica.changes())


class ForbidSecrets:
    """Forbids the table `secret`, and wants text in `name` (as the backend's policy would validate types)."""

    def __init__(self) -> None:
        self.reviewed: list[Change] = []

    async def review(self, changes: Sequence[Change]) -> list[Rejection | None]:
        self.reviewed.extend(changes)
        return [self._verdict(c) for c in changes]

    @staticmethod
    def _verdict(change: Change) -> Rejection | None:
        if change.table == "secret":
            return Rejection(m.NOT_ALLOWED, "this table is not yours to write", field="table")
        if change.column == "name" and not isinstance(change.value, str):
            return Rejection(m.INVALID_VALUE, "name must be text", field="name")
        return None


class Server:
    def __init__(self, limits: Limits = Limits()) -> None:
        self.store = MemoryStore()
        self.policy = ForbidSecrets()
        self.time = T
        self.clock = Clock("server", physical=lambda: self.time)
        self.limits = limits

    async def sync(self, req: m.SyncRequest, store: ChangeStore | None = None) -> m.SyncResponse:
        return await handle(
            req,
            store=store or self.store,
            policy=self.policy,
            clock=self.clock,
            schema_versions=[1],
            limits=self.limits,
        )

    async def pull_all(
        self, client: str, cursor: str | None = None, limit: int | None = None, store: ChangeStore | None = None
    ) -> tuple[list[Change], m.SyncResponse]:
        """Pages until has_more is false: every change delivered, and the last answer."""
        pulled: list[Change] = []
        while True:
            answer = await self.sync(request(client, cursor=cursor, limit=limit), store)
            assert limit is None or len(answer.changes) <= limit
            pulled.extend(answer.changes)
            cursor = answer.cursor
            if not answer.has_more:
                return pulled, answer
            assert answer.changes, "a page that says more follow must not be empty"


async def fill(server: Server) -> None:
    """A state built by three clients: rows created, edited over each other, deleted and restored."""
    for round_ in range(3):
        for index, node in enumerate("abc"):
            offset = -100_000 + round_ * 1000 + index
            made = [change(node, f"{node}{round_}", CAUSAL_LENGTH, 1, offset)]
            made += [change(node, f"r{row}", column, f"{node}{round_}", offset) for row in range(4) for column in "xyz"]
            made.append(change(node, "r0", CAUSAL_LENGTH, round_ + index + 1, offset))
            answers = await server.sync(request(node, made, cursor="v1:0"))
            assert all(r.status == "accepted" for r in answers.results)


async def test_a_rejected_change_carries_code_message_and_field_and_does_not_block_later_changes() -> None:
    server = Server()
    pushed = [
        change("a", table="secret"),
        change("a", "s1", CAUSAL_LENGTH, 1),
        change("a", "s1", "name", 42),
        change("a", "s1", "name", "Shop", offset_ms=-500),
    ]
    answer = await server.sync(request("a", pushed))
    assert [(r.status, r.code, r.field) for r in answer.results] == [
        ("rejected", m.NOT_ALLOWED, "table"),
        ("accepted", None, None),
        ("rejected", m.INVALID_VALUE, "name"),
        ("accepted", None, None),
    ]
    assert answer.results[0].message and answer.results[2].message
    assert snapshot(server.store.replica) == snapshot(_replica(pushed[1], pushed[3]))


def _replica(*changes: Change) -> Replica:
    replica = Replica()
    replica.apply_all(changes)
    return replica


async def test_the_policy_reviews_only_changes_that_passed_the_node_and_clock_checks() -> None:
    server = Server()
    fine = change("a", "s1", CAUSAL_LENGTH, 1)
    await server.sync(request("a", [change("b"), change("a", "s2", offset_ms=400_000), fine]))
    assert server.policy.reviewed == [fine]


async def _purged(server: Server) -> None:
    """A row created and deleted (one change per request), then purged: the horizon moves past cursor v1:1."""
    await server.sync(request("a", [change("a", "s9", CAUSAL_LENGTH, 1)]))
    await server.sync(request("a", [change("a", "s9", CAUSAL_LENGTH, 2, -900)], "v1:1"))
    assert server.store.purge_tombstones(server.store.last_seq) == 1


REFUSALS: list[tuple[str, Callable[[list[Change]], m.SyncRequest], Limits, str, int]] = [
    ("unsupported protocol", lambda cs: request("a", cs, protocol=2), Limits(), m.UNSUPPORTED_PROTOCOL, 400),
    ("unknown schema", lambda cs: request("a", cs, schema_version=2), Limits(), m.UNKNOWN_SCHEMA, 400),
    ("too many changes", lambda cs: request("a", cs), Limits(max_changes=1), m.TOO_MANY_CHANGES, 413),
    ("bad cursor", lambda cs: request("a", cs, cursor="v1:x"), Limits(), m.BAD_CURSOR, 400),
    ("must refetch", lambda cs: request("a", cs, cursor="v1:1"), Limits(), m.MUST_REFETCH, 409),
    ("cursor ahead of the server", lambda cs: request("a", cs, cursor="v1:99"), Limits(), m.MUST_REFETCH, 409),
]


@pytest.mark.parametrize(("make", "limits", "code", "status"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
async def test_a_refused_request_raises_its_code_and_status_and_applies_nothing(
    make: Callable[[list[Change]], m.SyncRequest], limits: Limits, code: str, status: int
) -> None:
    server = Server(limits)
    await _purged(server)
    before = (snapshot(server.store.replica), server.store.last_seq)
    with pytest.raises(SyncRefused) as refused:
        await server.sync(make([change("a", "s1", CAUSAL_LENGTH, 1), change("a", "s1", "name", "Shop")]))
    assert (refused.value.code, refused.value.status) == (code, status)
    assert refused.value.message
    assert (snapshot(server.store.replica), server.store.last_seq) == before


async def test_a_client_id_of_the_server_is_refused_and_nothing_is_applied() -> None:
    server = Server()
    with pytest.raises(SyncRefused) as refused:
        await server.sync(request("server", [change("server", "s1", CAUSAL_LENGTH, 1)]))
    assert (refused.value.code, refused.value.status) == (m.BAD_CLIENT_ID, 400)
    assert server.store.last_seq == 0


async def test_a_cursor_at_the_purge_horizon_is_still_served() -> None:
    server = Server()
    await _purged(server)
    horizon, _ = await server.store.bounds()
    answer = await server.sync(request("b", cursor=f"v1:{horizon}"))
    assert answer.cursor == f"v1:{horizon}"


async def test_clock_skew_rejects_only_the_change_ahead_and_tells_the_server_time() -> None:
    server = Server()
    ahead = change("a", "s2", CAUSAL_LENGTH, 1, offset_ms=5 * 60 * 1000 + 1)
    at_bound = change("a", "s1", CAUSAL_LENGTH, 1, offset_ms=5 * 60 * 1000)
    answer = await server.sync(request("a", [ahead, at_bound]))
    skew, accepted = answer.results
    assert (skew.status, skew.code, skew.field) == ("rejected", m.CLOCK_SKEW, "hlc")
    assert str(T) in (skew.message or "")
    assert accepted.status == "accepted"
    assert answer.server_time == T
    assert snapshot(server.store.replica) == snapshot(_replica(at_bound))


async def test_clock_skew_is_measured_from_physical_time_not_from_stamps_accepted_before() -> None:
    # docs/sync-protocol.md 4: "more than 5 minutes ahead of server_time", the server's physical time (3).
    server = Server()
    await server.sync(request("a", [change("a", "s1", CAUSAL_LENGTH, 1, offset_ms=300_000)]))
    answer = await server.sync(request("a", [change("a", "s2", CAUSAL_LENGTH, 1, offset_ms=600_000)], "v1:1"))
    assert answer.results[0].code == m.CLOCK_SKEW
    assert answer.server_time == T


@pytest.mark.parametrize("limit", [1, 7, 1000])
async def test_paging_delivers_every_change_exactly_once(limit: int) -> None:
    server = Server()
    await fill(server)
    pulled, last = await server.pull_all("d", limit=limit)
    assert len({exact(c) for c in pulled}) == len(pulled), "a change was delivered twice"
    assert sorted(exact(c) for c in pulled) == snapshot(server.store.replica)
    assert not last.has_more


async def test_paging_skips_the_callers_own_changes_and_delivers_all_others_once() -> None:
    server = Server()
    await fill(server)
    pulled, _ = await server.pull_all("a", cursor="v1:0", limit=5)
    others = [c for c in server.store.replica.changes() if c.node != "a"]
    assert sorted(exact(c) for c in pulled) == sorted(exact(c) for c in others)


async def test_the_final_checksum_equals_the_checksum_of_the_clients_replica() -> None:
    server = Server()
    await fill(server)
    client = Replica()
    mine = [change("e", "r1", "x", "mine, stale", -200_000), change("e", "r2", "y", "mine, latest", -10)]
    mine += [change("e", "n1", CAUSAL_LENGTH, 1, -10), change("e", "r0", CAUSAL_LENGTH, 99, -10)]
    client.apply_all(mine)
    answer = await server.sync(request("e", mine, cursor="v1:0", limit=4))
    assert all(r.status == "accepted" for r in answer.results)
    client.apply_all(answer.changes)
    pulled, last = await server.pull_all("e", cursor=answer.cursor, limit=4)
    client.apply_all(pulled)
    assert last.checksum == state_checksum(client.changes())
    assert snapshot(client) == snapshot(server.store.replica)


async def test_the_checksum_still_matches_after_the_server_purges_tombstones() -> None:
    server = Server()
    await server.sync(request("a", [change("a", "s1", CAUSAL_LENGTH, 1), change("a", "s2", CAUSAL_LENGTH, 1)]))
    await server.sync(request("a", [change("a", "s2", CAUSAL_LENGTH, 2, -500)], "v1:2"))
    client = Replica()
    pulled, last = await server.pull_all("b")
    client.apply_all(pulled)
    server.store.purge_tombstones(server.store.last_seq)
    answer = await server.sync(request("b", cursor=last.cursor))
    assert answer.checksum == state_checksum(client.changes())


async def test_a_full_download_with_cursor_null_brings_back_the_callers_own_changes_on_every_page() -> None:
    # docs/sync-protocol.md 3: a replica that lost its state may pull again with cursor null, under the same id.
    server = Server()
    mine = [change("a", f"s{i}", CAUSAL_LENGTH, 1, -1000 + i) for i in range(6)]
    await server.sync(request("a", mine, cursor="v1:0"))
    pulled, _ = await server.pull_all("a", limit=2)
    assert sorted(exact(c) for c in pulled) == sorted(exact(c) for c in mine)


async def test_a_scoped_view_returns_only_the_rows_its_scope_admits() -> None:
    server = Server()
    rows = {"n1": "north", "n2": "north", "s1": "south"}
    made = [change("a", row, CAUSAL_LENGTH, 1) for row in rows]
    made += [change("a", row, "region", region) for row, region in rows.items()]
    made += [change("a", row, "name", f"shop {row}") for row in rows]
    await server.sync(request("a", made))
    north: Scope = lambda table, row, fields: fields.get("region") == "north"  # noqa: E731
    pulled, last = await server.pull_all("b", limit=2, store=server.store.view(north))
    assert {c.row for c in pulled} == {"n1", "n2"}
    assert sorted(exact(c) for c in pulled) == sorted(exact(c) for c in made if c.row != "s1")
    assert last.checksum == state_checksum(c for c in made if c.row != "s1")


async def test_a_real_response_round_trips_through_json_and_msgpack() -> None:
    server = Server()
    made = [
        change("a", "s1", CAUSAL_LENGTH, 1),
        change("a", "s1", "name", "上海便利店 😀"),
        change("a", "s1", "shelf", {"facings": 3, "skus": ["A1"], "share": 0.25, "photo": None}),
        change("a", "s2", "name", 7),
        change("a", "s3", CAUSAL_LENGTH, 1, offset_ms=400_000),
    ]
    answer = await server.sync(request("a", made))
    assert {r.status for r in answer.results} == {"accepted", "rejected"}
    for encode, msgpack in ((m.encode_json, False), (m.encode_msgpack, True)):
        body = encode(answer)
        decoded = m.decode_response(body, msgpack=msgpack)
        assert exact(decoded) == exact(answer)
        assert encode(decoded) == body


@pytest.mark.parametrize("length", ["1", 0, True, 1.5], ids=repr)
async def test_a_causal_length_that_is_not_a_positive_integer_is_rejected_and_later_pulls_still_work(
    length: Any,
) -> None:
    # docs/sync-protocol.md 2: `_cl` is an integer. The engine owns `_cl` as it owns `node` and `hlc`: a policy
    # that checks only the domain columns (as ForbidSecrets does) must not let one bad push break every pull.
    server = Server()
    good = change("a", "s2", CAUSAL_LENGTH, 1)
    answer = await server.sync(request("a", [change("a", "s1", CAUSAL_LENGTH, length), good]))
    assert [(r.status, r.code) for r in answer.results] == [("rejected", m.INVALID_VALUE), ("accepted", None)]
    pulled, _ = await server.pull_all("b")
    assert [exact(c) for c in pulled] == [exact(good)]
