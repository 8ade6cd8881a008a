"""Server-side writes (REST, CSV import, the demo) recorded as server changes, so devices pull them.

Every service that writes a synced table calls `record_rows` in the same transaction. Only fields whose value
changed get a new version. When a row's owner or territory changes, the row is renumbered for its new audience
and whoever lost it gets a removal record (docs/sync-protocol.md 5.3).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from backend.sync_api import versions
from backend.sync_api.clock import server_clock
from backend.sync_api.registry import TABLES
from backend.sync_api.scope import audience
from backend.sync_api.tables import SyncField, SyncRemoval
from backend.tables_base import new_id
from sync.changes import CAUSAL_LENGTH, Change, canonical, is_alive

Keys = tuple[uuid.UUID | None, uuid.UUID | None]


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


async def record_rows(
    org_id: uuid.UUID,
    table_name: str,
    rows: Sequence[tuple[uuid.UUID, dict[str, Any]]],
    stored: dict[str, dict[str, versions.Stored]] | None = None,
) -> None:
    """Record new or changed rows: `values` holds the columns written (Python values, Structs allowed).

    `stored`: these rows' stored versions when the caller read them after taking the organisation's lock."""
    table = TABLES[table_name]
    await versions.lock(org_id)
    if stored is None:
        stored = await versions.read_rows(org_id, table_name, [str(r) for r, _ in rows])
    clock = server_clock()
    writes: list[versions.Write] = []
    moves: list[tuple[str, Keys, Keys]] = []
    for row_id, values in rows:
        row = str(row_id)
        fields = stored.get(row, {})
        first = next(iter(fields.values()), None)
        old: Keys = (first.owner_id, first.territory_id) if first else (None, None)
        data = {c: msgspec.to_builtins(v) for c, v in values.items() if c in table.columns}
        owner = _uuid(data[table.owner_column]) if table.owner_column in data else old[0]
        territory = _uuid(data[table.territory_column]) if table.territory_column in data else old[1]
        if not is_alive(versions.causal_length(fields)):
            current = versions.causal_length(fields) or 0
            data[CAUSAL_LENGTH] = current + 1
        for column, value in data.items():
            if column in fields and canonical(fields[column].change.value) == canonical(value):
                continue
            stamp = clock.now()
            writes.append(
                versions.Write(
                    Change(table_name, row, column, value, stamp.stamp, stamp.node),
                    table.org_wide,
                    owner,
                    territory,
                    alive=True,  # a domain row that exists is live (a deleted one was revived above)
                )
            )
        if first and (owner, territory) != old:
            moves.append((row, old, (owner, territory)))
    await versions.write(org_id, writes)
    for row, old, new in moves:
        await _move(org_id, table_name, row, old, new)


async def record_delete(org_id: uuid.UUID, table_name: str, row_id: uuid.UUID) -> None:
    """A row deleted on the server: its causal length goes to the next even number."""
    await versions.lock(org_id)
    stored = await versions.read_rows(org_id, table_name, [str(row_id)])
    fields = stored.get(str(row_id))
    if not fields or not is_alive(versions.causal_length(fields)):
        return
    first = next(iter(fields.values()))
    stamp = server_clock().now()
    cl = Change(
        table_name, str(row_id), CAUSAL_LENGTH, (versions.causal_length(fields) or 0) + 1, stamp.stamp, stamp.node
    )
    await versions.write(org_id, [versions.Write(cl, first.org_wide, first.owner_id, first.territory_id, False)])


async def _move(org_id: uuid.UUID, table: str, row: str, old: Keys, new: Keys) -> None:
    lost = await audience(org_id, *old) - await audience(org_id, *new)
    await _remove_for(org_id, table, row, lost)
    await versions.renumber(org_id, table, row, *new)


async def _remove_for(org_id: uuid.UUID, table: str, row: str, users: set[uuid.UUID]) -> None:
    if not users:
        return
    first = await versions.reserve(org_id, len(users))
    for offset, user in enumerate(sorted(users)):
        await SyncRemoval.insert(
            SyncRemoval(id=new_id(), org_id=org_id, user_id=user, tbl=table, row_id=row, seq=first + offset)
        ).run()


async def rescope_audience(
    org_id: uuid.UUID,
    *,
    owner_id: uuid.UUID | None = None,
    territory_id: uuid.UUID | None = None,
    lost_by: uuid.UUID | None = None,
) -> None:
    """Rows whose audience changed without their keys changing (a rep moved to another supervisor, a
    territory given to another supervisor): renumber them for the new audience; `lost_by` gets removals for
    those it no longer sees."""
    condition: Combinable = SyncField.org_id == org_id
    condition &= (SyncField.owner_id == owner_id) if owner_id is not None else (SyncField.territory_id == territory_id)
    rows = (
        await SyncField.select(SyncField.tbl, SyncField.row_id, SyncField.owner_id, SyncField.territory_id)
        .where(condition & (SyncField.col == CAUSAL_LENGTH))
        .run()
    )
    audiences: dict[Keys, set[uuid.UUID]] = {}
    for r in rows:
        keys: Keys = (r["owner_id"], r["territory_id"])
        if keys not in audiences:
            audiences[keys] = await audience(org_id, *keys)
        if lost_by is not None and lost_by not in audiences[keys]:
            await _remove_for(org_id, r["tbl"], r["row_id"], {lost_by})
        await versions.renumber(org_id, r["tbl"], r["row_id"], *keys)


async def record_domain(org_id: uuid.UUID, table_name: str, row_ids: Sequence[uuid.UUID]) -> None:
    """Record the current domain rows `row_ids` of a synced table (after a REST write, an import, the demo)."""
    source = TABLES[table_name].source
    assert source is not None
    ids = list(row_ids)
    for start in range(0, len(ids), 500):
        rows = (
            await source.select()
            .where(source._meta.primary_key.is_in(ids[start : start + 500]))
            .output(load_json=True)
            .run()
        )
        await record_rows(org_id, table_name, [(row["id"], row) for row in rows])
