"""A device for the simulations: faults on the wire, clock-skew recovery, and a tally of what the server acknowledged.

`SimDevice` is the protocol's client (docs/sync-protocol.md 3.1) with a network that can lose the request, lose the
answer after the server committed, deliver a request twice, or deliver the outbox's two halves in reverse order.
Everything the server accepted goes into a shared ledger, so a test can check at the end that nothing acknowledged
was lost. Whatever goes against the protocol's promises is written down as a violation, not raised, so one run
reports every finding at once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from random import Random
from typing import Any

import httpx

from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change, wins
from sync.clock import Clock, Hlc, physical_ms
from sync.merge import Replica
from tests.sync_device import Device

REQUEST_LOST = "request_lost"
RESPONSE_LOST = "response_lost"
DUPLICATE = "duplicate"
REORDER = "reorder"
FAULTS = (REQUEST_LOST, RESPONSE_LOST, DUPLICATE, REORDER)

# Rejections a correct client can run into: a stale replica (a store reassigned away while offline), the two halves
# of a new row delivered in reverse order, a fast clock. Anything else is a finding.
EXPECTED_REJECTIONS = {m.NO_SUCH_ROW, m.INCOMPLETE_ROW, m.CLOCK_SKEW}

LedgerKey = tuple[str, str, str, str, str]
MAX_RESTAMPS = 3  # per sync


class ServerFailed(Exception):
    """The server answered 5xx."""


@dataclass
class Tally:
    """What every device did and saw, shared by all of them."""

    made: int = 0
    ledger: dict[LedgerKey, Change] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    restamped: int = 0
    refetches: int = 0
    server_errors: int = 0
    syncs: int = 0
    requests: int = 0
    violations: list[str] = field(default_factory=list)

    def acknowledge(self, change: Change) -> None:
        self.ledger[(change.table, change.row, change.column, change.hlc, change.node)] = change


class SimDevice(Device):
    """A Device whose syncs may meet a fault, which corrects a fast clock, and which refetches after a rejection.

    `skew_ms` makes the physical clock run ahead; `page` is the limit it asks for; `last_seq` reads the server's
    sequence counter, so a retry or a duplicate can be checked to change nothing (only meaningful when nothing else
    writes meanwhile).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        *,
        name: str,
        tally: Tally,
        rng: Random,
        skew_ms: int = 0,
        page: int | None = None,
        last_seq: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        super().__init__(client, token, name=name)
        self.tally = tally
        self.rng = rng
        self.skew_ms = skew_ms
        self.page = page  # the `limit` it asks for: small pages make every download page
        self.offset_ms = 0
        self.clock = Clock(self.node, physical=self.physical)
        self.last_seq = last_seq
        self.offline_until = 0
        # A push whose answer was lost: (changes sent, what the server answered, unseen by the device).
        self.in_doubt: tuple[list[Change], list[m.ChangeResult]] | None = None
        self._needs_refetch = False
        self._restamps = 0
        self.pulled = 0

    def physical(self) -> int:
        return physical_ms() + self.skew_ms + self.offset_ms

    def edit(self, table: str, row: str, **values: Any) -> list[Change]:
        made = super().edit(table, row, **values)
        self.tally.made += len(made)
        return made

    def create(self, table: str, **values: Any) -> str:
        row = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))  # seeded, so a run can be replayed
        self.edit(table, row, **{CAUSAL_LENGTH: 1}, **values)
        return row

    def restore(self, table: str, row: str) -> None:
        current = self.replica.causal_length(table, row) or 0
        self.edit(table, row, **{CAUSAL_LENGTH: current + 1 if current % 2 == 0 else current})

    async def sync(self, *, limit: int | None = None, fault: str | None = None) -> Any:
        """One sync as the protocol describes it, through `fault` when one is given."""
        self.tally.syncs += 1
        self._restamps = 0
        try:
            if not await self._deliver(limit, fault):
                return None
        except ServerFailed as exc:
            # Retrying would fail the same way forever; give the push up so the run can go on and report.
            pushed = Counter(f"{c.table}.{c.column}" for c in self.outbox)
            self._violation(f"the server failed on a push of {dict(pushed)}: {exc}; the device drops its outbox")
            self.tally.server_errors += 1
            self.outbox.clear()
            self.in_doubt = None
            self._needs_refetch = True
        if not self._needs_refetch and self.checksum() != self.server_checksum:
            self._violation(f"checksum {self.checksum()} != server's {self.server_checksum} after an incremental sync")
            self._needs_refetch = True
        while self._needs_refetch:
            # The replica holds something the server refused: download it again (keeping the outbox).
            self._needs_refetch = False
            self.tally.refetches += 1
            await self.refetch()
        return None

    async def _deliver(self, limit: int | None, fault: str | None) -> bool:
        """Push and pull through `fault`; False when the device heard nothing back."""
        if fault == REQUEST_LOST:
            self.tally.faults[fault] += 1
            return False
        if self.in_doubt is not None:
            await self._retry_in_doubt()
        if fault == RESPONSE_LOST and self.outbox:
            self.tally.faults[fault] += 1
            sent = list(self.outbox)
            reply = await self._post(sent, limit)
            for change, result in zip(sent, reply.results, strict=True):
                if result.status == "accepted":
                    self.tally.acknowledge(change)  # committed, though the device never hears of it
            self.in_doubt = (sent, reply.results)
            return False
        if fault == DUPLICATE:
            self.tally.faults[fault] += 1
            sent = list(self.outbox)
            first = await self._post(sent, limit)
            between = await self._last_seq()
            second = await self._post(sent, limit)
            if _verdicts(second.results) != _verdicts(first.results):
                self._violation(f"a duplicated push was answered differently: {first.results} then {second.results}")
            if await self._last_seq() != between:
                self._violation("a duplicated push changed the server's state again")
            for change, result in zip(sent, first.results, strict=True):
                if result.status == "accepted":
                    self.tally.acknowledge(change)
            self._process(sent, second)
        elif fault == REORDER and len(self.outbox) >= 2:
            self.tally.faults[fault] += 1
            half = len(self.outbox) // 2
            earlier, later = self.outbox[:half], self.outbox[half:]
            self._process(later, await self._post(later, limit))
            self._process(earlier, await self._post(earlier, limit))
        await self._pull_rest(limit)
        return True

    async def _pull_rest(self, limit: int | None) -> None:
        """Push what is left of the outbox (again after restamping) and pull until nothing more is waiting."""
        while True:
            pushing = self.outbox[:5000]
            has_more = self._process(pushing, await self._post(pushing, limit))
            if not has_more and not self.outbox:
                return

    async def _retry_in_doubt(self) -> None:
        assert self.in_doubt is not None
        sent, answered = self.in_doubt
        self.in_doubt = None
        before = await self._last_seq()
        reply = await self._post(sent, None)
        after = await self._last_seq()
        for change, was, now in zip(sent, answered, reply.results, strict=True):
            if was.status == "accepted" and now.status != "accepted":
                self._violation(
                    f"a retried change the server had committed was refused ({now.code}: {now.message}): {change}"
                )
        if _verdicts(answered) == _verdicts(reply.results) and after != before:
            self._violation(f"retrying a committed push changed the server's state (seq {before} -> {after})")
        self._process(sent, reply)

    async def _post(self, changes: list[Change], limit: int | None) -> m.SyncResponse:
        self.tally.requests += 1
        response = await self.request(changes, limit=limit or self.page)
        if response.status_code >= 500:
            raise ServerFailed(f"{response.status_code} {response.text[:200]}")
        assert response.status_code == 200, response.text
        return m.decode_response(response.content, msgpack=self.msgpack)

    def _process(self, sent: list[Change], reply: m.SyncResponse) -> bool:
        """Take in one answer: results for `sent`, removals, pulled changes, cursor. Returns has_more."""
        gone = {id(c) for c in sent}
        self.outbox = [c for c in self.outbox if id(c) not in gone]
        skewed = []
        for change, result in zip(sent, reply.results, strict=True):
            if result.status == "accepted":
                self.tally.acknowledge(change)
            elif result.code == m.CLOCK_SKEW:
                skewed.append(change)
            else:
                self.tally.rejected[f"{result.code} ({change.table}.{result.field})"] += 1
                self.rejected.append((change, result))
                self._needs_refetch = True  # the replica holds what the server refused
                if result.code not in EXPECTED_REJECTIONS:
                    self._violation(f"unexpected rejection {result.code} ({result.message}) of {change}")
        for ref in reply.removed:
            self.replica.fields.pop((ref.table, ref.row), None)
        self.pulled += len(reply.changes) + len(reply.removed)
        for change in reply.changes:
            self.replica.apply(change)
            self.clock.receive(Hlc.parse(change.hlc, change.node))
        self.cursor = reply.cursor
        self.server_checksum = reply.checksum
        if skewed:
            self.tally.rejected[m.CLOCK_SKEW] += len(skewed)
            self._restamp(skewed, reply.server_time)
        return reply.has_more

    def _restamp(self, skewed: list[Change], server_time: int) -> None:
        """sync.clock_skew: correct the offset from server_time, then make the same edits again with fresh stamps."""
        self._restamps += 1
        if self._restamps > MAX_RESTAMPS:
            # Fresh stamps are refused too: a change pulled from elsewhere dragged this clock ahead, and an HLC
            # never runs backwards. Give the edits up (the server keeps its state) rather than spin.
            self._violation(f"edits refused for clock skew even when stamped afresh: {skewed[0]}")
            self._needs_refetch = True
            return
        self.offset_ms += server_time - self.physical()
        clock = Clock(self.node, physical=self.physical)
        for change in self.replica.changes():
            if change.node != self.node:
                clock.receive(Hlc.parse(change.hlc, change.node))
        self.clock = clock
        for old in skewed:
            stamp = self.clock.now()
            new = Change(old.table, old.row, old.column, old.value, stamp.stamp, stamp.node)
            row = self.replica.fields.setdefault((old.table, old.row), {})
            current = row.get(old.column)
            # The stamp being replaced is our own and in the future; a fresh one is later than all we have seen.
            if current is None or current.node == self.node or wins(new, current):
                row[old.column] = new
            self.outbox.append(new)
            self.tally.restamped += 1

    async def refetch(self) -> Any:
        self.replica = Replica()
        for change in self.outbox:
            self.replica.apply(change)
        self.cursor = None
        await self._pull_rest(None)
        if not self._needs_refetch and self.checksum() != self.server_checksum:
            self._violation(f"checksum differs right after a full download ({self.checksum()})")

    async def _last_seq(self) -> int:
        return await self.last_seq() if self.last_seq is not None else 0

    def _violation(self, text: str) -> None:
        self.tally.violations.append(f"{self.node}: {text}")


def _verdicts(results: list[m.ChangeResult]) -> list[tuple[str, str | None, str | None]]:
    """Results without their messages (a clock-skew message names the ms, which moves on)."""
    return [(r.status, r.code, r.field) for r in results]
