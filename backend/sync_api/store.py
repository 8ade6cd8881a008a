"""The database implementation of the engine's ChangeStore, for one caller."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from piccolo.query.functions.aggregate import Sum

from backend.auth.principal import Principal
from backend.inspections.scoring import score_inspections, touched_items
from backend.photos.services import mark_arrived_uploaded
from backend.photos.storage import PhotoStorage
from backend.sync_api import projection, versions
from backend.sync_api.clock import server_clock
from backend.sync_api.registry import TABLES
from backend.sync_api.scope import Scope, scope_of
from backend.sync_api.tables import SyncBucket, SyncField, SyncRemoval
from backend.visits.judging import JUDGED, judge_visits
from sync.changes import CAUSAL_LENGTH, Change, is_alive, wins
from sync.messages import RowRef
from sync.store import Pull


class DatabaseStore:
    def __init__(
        self, principal: Principal, reader: versions.Reader | None = None, photos: PhotoStorage | None = None
    ) -> None:
        self.principal = principal
        self.reader = reader or versions.Reader(principal.org_id)
        self.photos = photos

    async def bounds(self) -> tuple[int, int]:
        last_seq, horizon = await versions.counter(self.principal.org_id)
        return horizon, last_seq

    async def apply(self, changes: Sequence[Change]) -> None:
        """Merge accepted changes; new rows are owned by the caller and get their server-owned fields."""
        org_id = self.principal.org_id
        by_table: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_table[change.table].append(change)
        writes: list[versions.Write] = []
        touched: dict[str, set[str]] = defaultdict(set)
        for name, table_changes in by_table.items():
            table = TABLES[name]
            stored = await self.reader.rows(name, {c.row for c in table_changes})
            winners: dict[tuple[str, str], Change] = {}
            for change in table_changes:
                current = winners.get(change.key[1:]) or _stored_change(stored, change)
                if current is None or wins(change, current):
                    winners[change.key[1:]] = change
            alive = _liveness(stored, winners)
            for (row, _), change in winners.items():
                fields = stored.get(row)
                keys = next(iter(fields.values())) if fields else None
                owner = keys.owner_id if keys else self.principal.user_id
                territory = keys.territory_id if keys else None
                writes.append(versions.Write(change, table.org_wide, owner, territory, alive[row], new_row=not fields))
                touched[name].add(row)
            for row in touched[name] - set(stored):
                if table.owner_column:  # a new row: the server says whose it is
                    stamp = server_clock().now()
                    owner_change = Change(
                        name, row, table.owner_column, str(self.principal.user_id), stamp.stamp, stamp.node
                    )
                    writes.append(
                        versions.Write(owner_change, table.org_wide, self.principal.user_id, None, alive[row], True)
                    )
        self.reader = versions.Reader(org_id)  # what it read is about to be overwritten
        await versions.write(org_id, writes)
        projected = [(name, table) for name, table in TABLES.items() if table.projected and touched.get(name)]
        # Deleted rows leave their domain tables first, the rows that name others first (items before inspection).
        for name, table in reversed(projected):
            await projection.remove(
                org_id, table, {w.change.row for w in writes if w.change.table == name and not w.alive}
            )
        # In the registry's order, so a row is projected after the rows it names (a visit before its reminder).
        for name, table in projected:
            await projection.project(org_id, table, touched[name])
        # The server's own fields of what arrived: fence verdicts, flags, shelf scores (docs/sync-protocol.md 5.2).
        await judge_visits(org_id, {c.row for c in changes if c.table == "visit" and c.column in JUDGED})
        items = await touched_items(org_id, touched.get("inspection_item", set()))
        await score_inspections(org_id, touched.get("inspection", set()) | {str(i) for i in items}, items)
        if self.photos is not None:
            arrived = {c.row for c in changes if c.table == "photo" and c.column in ("sha256", CAUSAL_LENGTH)}
            await mark_arrived_uploaded(org_id, self.photos, arrived)

    async def pull(self, cursor: int | None, limit: int, exclude_node: str | None = None) -> Pull:
        org_id = self.principal.org_id
        # Read the counter before the page: any number up to it is committed (5.1), so the cursor may move there.
        last_seq, _ = await versions.counter(org_id)
        scope = await scope_of(self.principal)
        rows = await _page(scope, cursor or 0, limit + 1, exclude_node)
        has_more = len(rows) > limit
        page = rows[:limit]
        next_cursor = int(page[-1]["seq"]) if has_more else max(cursor or 0, last_seq, *(int(r["seq"]) for r in page))
        decode = versions.decode_value
        changes = [Change(r["tbl"], r["row_id"], r["col"], decode(r["value"]), r["hlc"], r["node"]) for r in page]
        removed = await self._removed(cursor or 0, next_cursor, scope) if cursor is not None else []
        buckets = SyncBucket.select(Sum(SyncBucket.total).as_alias("total")).where(scope.condition(SyncBucket))
        total = await buckets.first().run()
        checksum = int((total or {}).get("total") or 0) & 0xFFFFFFFF
        return Pull(changes=changes, cursor=next_cursor, has_more=has_more, removed=removed, checksum=checksum)

    async def _removed(self, after: int, through: int, scope: Scope) -> list[RowRef]:
        rows = (
            await SyncRemoval.select(SyncRemoval.tbl, SyncRemoval.row_id)
            .where(
                (SyncRemoval.org_id == self.principal.org_id)
                & (SyncRemoval.user_id == self.principal.user_id)
                & (SyncRemoval.seq > after)
                & (SyncRemoval.seq <= through)
            )
            .run()
        )
        refs = {RowRef(r["tbl"], r["row_id"]) for r in rows}
        if not refs:
            return []
        # A row that came back into scope since is delivered whole by the changes; don't also remove it.
        back = (
            await SyncField.select(SyncField.tbl, SyncField.row_id)
            .where(
                scope.condition(SyncField)
                & (SyncField.col == CAUSAL_LENGTH)
                & SyncField.row_id.is_in(sorted({r.row for r in refs}))
            )
            .run()
        )
        returned = {RowRef(r["tbl"], r["row_id"]) for r in back}
        return sorted(refs - returned, key=lambda r: (r.table, r.row))


async def _page(scope: Scope, after: int, limit: int, exclude_node: str | None) -> list[dict[str, Any]]:
    """The first `limit` field versions in scope after sequence number `after`, in order: a union of one range
    scan per branch of the scope, each cut at `limit` before the merge."""
    parts: list[str] = []
    args: list[Any] = []
    for index, (where, params) in enumerate(scope.branches()):
        skip = " AND node <> {}" if exclude_node is not None else ""
        parts.append(
            f"SELECT * FROM (SELECT tbl, row_id, col, value, hlc, node, seq FROM sync_field WHERE {where} "
            f"AND seq > {{}}{skip} ORDER BY seq LIMIT {int(limit)}) AS branch{index}"
        )
        args += [*params, after] + ([exclude_node] if exclude_node is not None else [])
    sql = " UNION ALL ".join(parts) + f" ORDER BY seq LIMIT {int(limit)}"
    return cast(list[dict[str, Any]], await SyncField.raw(sql, *args).run())


def _liveness(stored: dict[str, dict[str, versions.Stored]], winners: dict[tuple[str, str], Change]) -> dict[str, bool]:
    """Each touched row's liveness after this push: its _cl as stored or as newly won."""
    rows = {row for row, _ in winners}
    return {
        row: is_alive(
            winners[(row, CAUSAL_LENGTH)].value
            if (row, CAUSAL_LENGTH) in winners
            else versions.causal_length(stored.get(row, {}))
        )
        for row in rows
    }


def _stored_change(stored: dict[str, dict[str, versions.Stored]], change: Change) -> Change | None:
    field = stored.get(change.row, {}).get(change.column)
    return field.change if field else None
