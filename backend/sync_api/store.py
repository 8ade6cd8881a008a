"""The database implementation of the engine's ChangeStore, for one caller."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from piccolo.query.functions.aggregate import Sum

from backend.auth.principal import Principal
from backend.sync_api import projection, versions
from backend.sync_api.clock import server_clock
from backend.sync_api.registry import TABLES
from backend.sync_api.scope import pull_condition
from backend.sync_api.tables import SyncField, SyncRemoval
from sync.changes import CAUSAL_LENGTH, Change, is_alive, wins
from sync.messages import RowRef
from sync.store import Pull


class DatabaseStore:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def horizon(self) -> int:
        return (await versions.counter(self.principal.org_id))[1]

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
            stored = await versions.read_rows(org_id, name, {c.row for c in table_changes})
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
        await versions.write(org_id, writes)
        # In the registry's order, so a row is projected after the rows it names (a visit before its reminder).
        for name, table in TABLES.items():
            if table.projected and touched.get(name):
                await projection.project(org_id, table, touched[name])

    async def pull(self, cursor: int | None, limit: int, exclude_node: str | None = None) -> Pull:
        org_id = self.principal.org_id
        # Read the counter before the page: any number up to it is committed (5.1), so the cursor may move there.
        last_seq, _ = await versions.counter(org_id)
        scope = await pull_condition(self.principal)
        condition = scope & (SyncField.seq > (cursor or 0))
        if exclude_node is not None:
            condition &= SyncField.node != exclude_node
        rows = (
            await SyncField.select(
                SyncField.tbl,
                SyncField.row_id,
                SyncField.col,
                SyncField.value,
                SyncField.hlc,
                SyncField.node,
                SyncField.seq,
            )
            .where(condition)
            .order_by(SyncField.seq)
            .limit(limit + 1)
            .run()
        )
        has_more = len(rows) > limit
        page = rows[:limit]
        next_cursor = int(page[-1]["seq"]) if has_more else max(cursor or 0, last_seq, *(int(r["seq"]) for r in page))
        decode = versions.decode_value
        changes = [Change(r["tbl"], r["row_id"], r["col"], decode(r["value"]), r["hlc"], r["node"]) for r in page]
        removed = await self._removed(cursor or 0, next_cursor, scope) if cursor is not None else []
        total = (
            await SyncField.select(Sum(SyncField.fp).as_alias("total"))
            .where(scope & (SyncField.alive == True))  # noqa: E712
            .first()
            .run()
        )
        checksum = int((total or {}).get("total") or 0) & 0xFFFFFFFF
        return Pull(changes=changes, cursor=next_cursor, has_more=has_more, removed=removed, checksum=checksum)

    async def _removed(self, after: int, through: int, scope: Any) -> list[RowRef]:
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
            .where(scope & (SyncField.col == CAUSAL_LENGTH) & SyncField.row_id.is_in(sorted({r.row for r in refs})))
            .run()
        )
        returned = {RowRef(r["tbl"], r["row_id"]) for r in back}
        return sorted(refs - returned, key=lambda r: (r.table, r.row))


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
