"""Field versions in the database: sequence numbers, batched upserts, reads. Always inside a write transaction.

Sequence numbers come from the organisation's `sync_counter` row, locked by the UPDATE that bumps it until the
transaction commits on PostgreSQL, and under SQLite's single writer otherwise: numbers therefore become visible in
the order they were handed out, and a pull never hands out a cursor past a number still to be committed
(docs/sync-protocol.md 5.1).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backend import db
from backend.sync_api.fingerprints import fingerprints
from backend.sync_api.tables import SyncCounter, SyncField
from backend.tables_base import new_id, new_ids, utcnow
from sync.changes import CAUSAL_LENGTH, Change

# sync_field's columns as written by `write`, in PostgreSQL's types.
FIELD_TYPES: tuple[str, ...] = ("uuid", "uuid", "varchar", "varchar", "varchar", "text", "varchar", "varchar")
FIELD_TYPES += ("bigint", "bigint", "boolean", "boolean", "uuid", "uuid", "timestamptz")


@dataclass
class Stored:
    """A field's stored version, with its row's scope keys."""

    change: Change
    seq: int
    org_wide: bool
    owner_id: uuid.UUID | None
    territory_id: uuid.UUID | None


@dataclass
class Write:
    change: Change
    org_wide: bool
    owner_id: uuid.UUID | None
    territory_id: uuid.UUID | None
    alive: bool
    # A row the server did not have: all its fields are in this write, already with the right liveness.
    new_row: bool = False


async def reserve(org_id: uuid.UUID, count: int) -> int:
    """Hand out `count` sequence numbers; returns the first. Locks the counter until the transaction ends."""
    bump = "UPDATE sync_counter SET last_seq = last_seq + {} WHERE org_id = {} RETURNING last_seq"
    rows = await db.fetch(bump, count, org_id)
    if not rows:  # the organisation's first sync
        await db.executemany(
            "INSERT INTO sync_counter (id, org_id, last_seq, horizon) VALUES ({}, {}, 0, 0) "
            "ON CONFLICT (org_id) DO NOTHING",
            [(new_id(), org_id)],
        )
        rows = await db.fetch(bump, count, org_id)
    return int(rows[0]["last_seq"]) - count + 1


async def lock(org_id: uuid.UUID) -> None:
    """Take the organisation's sync lock before reading versions to merge against.

    Merging decides on what it read; without the lock, two concurrent pushes on PostgreSQL could both read the
    same stored version and the later commit could overwrite a newer winner.
    """
    await reserve(org_id, 0)


async def counter(org_id: uuid.UUID) -> tuple[int, int]:
    """(last sequence number handed out, horizon) without locking."""
    row = (
        await SyncCounter.select(SyncCounter.last_seq, SyncCounter.horizon)
        .where(SyncCounter.org_id == org_id)
        .first()
        .run()
    )
    return (int(row["last_seq"]), int(row["horizon"])) if row else (0, 0)


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def decode_value(text: str) -> Any:
    return msgspec.json.decode(text)


async def write(org_id: uuid.UUID, writes: Sequence[Write]) -> None:
    """Store these versions (each the new winner of its field) under fresh sequence numbers, in order."""
    if not writes:
        return
    first = await reserve(org_id, len(writes))
    now = utcnow()
    ids, prints = new_ids(len(writes)), fingerprints([w.change for w in writes])
    rows = []
    for offset, w in enumerate(writes):
        c = w.change
        rows.append(
            (
                *(ids[offset], org_id, c.table, c.row, c.column, _json(c.value), c.hlc, c.node, first + offset),
                *(prints[offset], w.alive, w.org_wide, w.owner_id, w.territory_id, now),
            )
        )
    await db.insert_rows(
        "INSERT INTO sync_field (id, org_id, tbl, row_id, col, value, hlc, node, seq, fp, alive, org_wide, "
        "owner_id, territory_id, updated_at)",
        rows,
        "ON CONFLICT (org_id, tbl, row_id, col) DO UPDATE SET value = excluded.value, hlc = excluded.hlc, "
        "node = excluded.node, seq = excluded.seq, fp = excluded.fp, alive = excluded.alive, "
        "org_wide = excluded.org_wide, owner_id = excluded.owner_id, territory_id = excluded.territory_id, "
        "updated_at = excluded.updated_at",
        pg_types=FIELD_TYPES,
    )
    # A row's _cl changed: every field of the row follows its liveness.
    await db.executemany(
        "UPDATE sync_field SET alive = {} WHERE org_id = {} AND tbl = {} AND row_id = {}",
        [
            (w.alive, org_id, w.change.table, w.change.row)
            for w in writes
            if w.change.column == CAUSAL_LENGTH and not w.new_row
        ],
    )


async def read_rows(org_id: uuid.UUID, table: str, row_ids: Iterable[str]) -> dict[str, dict[str, Stored]]:
    """The stored fields of these rows: {row id: {column: Stored}}."""
    ids = sorted(set(row_ids))
    found: dict[str, dict[str, Stored]] = {}
    select = "SELECT row_id, col, value, hlc, node, seq, org_wide, owner_id, territory_id FROM sync_field "
    sqlite = db.is_sqlite(db.current_engine())
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if sqlite:
            where = f"WHERE org_id = {{}} AND tbl = {{}} AND row_id IN ({', '.join(['{}'] * len(chunk))})"
            rows = await db.fetch(select + where, org_id, table, *chunk)
        else:  # one array parameter: one statement text, planned and prepared once per connection
            rows = await db.fetch(select + "WHERE org_id = {} AND tbl = {} AND row_id = ANY({})", org_id, table, chunk)
        for r in rows:
            change = Change(table, r["row_id"], r["col"], decode_value(r["value"]), r["hlc"], r["node"])
            found.setdefault(r["row_id"], {})[r["col"]] = Stored(
                change, int(r["seq"]), bool(r["org_wide"]), r["owner_id"], r["territory_id"]
            )
    return found


class Reader:
    """Reads the stored rows of one push, each row once: the policy reads them, the merge reads them again.

    Valid while nothing is written: one push takes the organisation's lock first and creates one reader.
    """

    def __init__(self, org_id: uuid.UUID) -> None:
        self.org_id = org_id
        self._rows: dict[tuple[str, str], dict[str, Stored] | None] = {}

    async def rows(self, table: str, row_ids: Iterable[str]) -> dict[str, dict[str, Stored]]:
        wanted = set(row_ids)
        missing = [row for row in wanted if (table, row) not in self._rows]
        if missing:
            found = await read_rows(self.org_id, table, missing)
            for row in missing:
                self._rows[(table, row)] = found.get(row)
        return {row: fields for row in wanted if (fields := self._rows[(table, row)]) is not None}


async def renumber(
    org_id: uuid.UUID, table: str, row_id: str, owner_id: uuid.UUID | None, territory_id: uuid.UUID | None
) -> None:
    """Give every field of a row new sequence numbers and scope keys: the row's new audience pulls all of it."""
    count = await SyncField.count().where(
        (SyncField.org_id == org_id) & (SyncField.tbl == table) & (SyncField.row_id == row_id)
    )
    if not count:
        return
    first = await reserve(org_id, count)
    # One statement, the fields keeping their relative order (both databases have window functions and UPDATE FROM).
    await SyncField.raw(
        "UPDATE sync_field SET seq = numbered.seq, owner_id = {}, territory_id = {} FROM (SELECT id, "
        "{} - 1 + ROW_NUMBER() OVER (ORDER BY seq) AS seq FROM sync_field WHERE org_id = {} AND tbl = {} "
        "AND row_id = {}) AS numbered WHERE sync_field.id = numbered.id",
        owner_id,
        territory_id,
        first,
        org_id,
        table,
        row_id,
    ).run()


def causal_length(fields: dict[str, Stored]) -> int | None:
    stored = fields.get(CAUSAL_LENGTH)
    return stored.change.value if stored is not None else None
