"""What the engine needs from storage (`ChangeStore`, `Policy`), and an in-memory implementation for tests.

The backend implements both with Piccolo (backend/sync_api/); the protocol's tests use `MemoryStore` and need no
database and no web server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.changes import CAUSAL_LENGTH, Change, is_alive
from sync.checksum import state_checksum
from sync.merge import Replica
from sync.messages import RowRef


@dataclass(frozen=True)
class Rejection:
    code: str
    message: str
    field: str | None = None


@dataclass
class Pull:
    changes: list[Change]
    cursor: int
    has_more: bool
    removed: list[RowRef] = field(default_factory=list)
    checksum: int | None = None


class ChangeStore(Protocol):
    async def apply(self, changes: Sequence[Change]) -> None:
        """Merge `changes` (last writer wins per field); each winner gets the next server sequence number."""

    async def pull(self, cursor: int | None, limit: int, exclude_node: str | None = None) -> Pull:
        """Up to `limit` winning changes in the caller's scope with a sequence number above `cursor`, in order.

        Changes made by `exclude_node` are skipped (the cursor still moves past them): that replica has them.
        """

    async def bounds(self) -> tuple[int, int]:
        """(horizon, last sequence number): the cursors that still give a complete answer lie between the two.

        An older cursor may have missed purged tombstones; a newer one was not issued by this state of the
        server (a database restored from a backup has forgotten what it answered since).
        """


class Policy(Protocol):
    async def review(self, changes: Sequence[Change]) -> list[Rejection | None]:
        """For each change, None when the caller may make it, or why not (authorization and validation)."""


class AllowAll:
    async def review(self, changes: Sequence[Change]) -> list[Rejection | None]:
        return [None] * len(changes)


Scope = Callable[[str, str, dict[str, Any]], bool]


class MemoryStore:
    """A server's state in memory: every winning field version with the sequence number it was stored at."""

    def __init__(self) -> None:
        self.replica = Replica()
        self.seq: dict[tuple[str, str, str], int] = {}
        self.last_seq = 0
        self.purged_through = 0

    async def apply(self, changes: Sequence[Change]) -> None:
        for change in changes:
            if self.replica.apply(change):
                self.last_seq += 1
                self.seq[change.key] = self.last_seq

    def view(self, scope: Scope | None = None) -> MemoryView:
        return MemoryView(self, scope)

    async def pull(self, cursor: int | None, limit: int, exclude_node: str | None = None) -> Pull:
        return await self.view().pull(cursor, limit, exclude_node)

    async def bounds(self) -> tuple[int, int]:
        return self.purged_through, self.last_seq

    def purge_tombstones(self, older_than_seq: int) -> int:
        """Forget deleted rows whose deletion is at or before `older_than_seq`; later cursors stay complete."""
        purged = 0
        for key, fields in list(self.replica.fields.items()):
            cl = fields.get(CAUSAL_LENGTH)
            if cl is not None and not is_alive(cl.value) and self.seq[cl.key] <= older_than_seq:
                for column in fields:
                    del self.seq[(key[0], key[1], column)]
                del self.replica.fields[key]
                purged += 1
        self.purged_through = max(self.purged_through, older_than_seq)
        return purged


class MemoryView:
    """One caller's view of a MemoryStore: the rows `scope(table, row, fields)` admits."""

    def __init__(self, store: MemoryStore, scope: Scope | None) -> None:
        self.store = store
        self.scope = scope

    async def apply(self, changes: Sequence[Change]) -> None:
        await self.store.apply(changes)

    async def bounds(self) -> tuple[int, int]:
        return await self.store.bounds()

    def _visible(self) -> list[tuple[int, Change]]:
        found: list[tuple[int, Change]] = []
        for (table, row), fields in self.store.replica.fields.items():
            values = {column: c.value for column, c in fields.items()}
            if self.scope is None or self.scope(table, row, values):
                found.extend((self.store.seq[c.key], c) for c in fields.values())
        return sorted(found, key=lambda item: item[0])

    async def pull(self, cursor: int | None, limit: int, exclude_node: str | None = None) -> Pull:
        visible = self._visible()
        after = [(seq, c) for seq, c in visible if seq > (cursor or 0)]
        wanted = [(seq, c) for seq, c in after if c.node != exclude_node]
        page = wanted[:limit]
        has_more = len(wanted) > limit
        # Past the page's last change; when nothing more is wanted, past everything (own changes included).
        next_cursor = page[-1][0] if has_more else max(cursor or 0, self.store.last_seq)
        total = state_checksum(c for _, c in visible)
        return Pull(changes=[c for _, c in page], cursor=next_cursor, has_more=has_more, checksum=total)
