"""Rows written over sync become rows of their domain table (visits, reminders), so REST, reports and the
server's derivations see them. A live row with every required field is inserted or updated; a deleted one is
removed from the domain table. The field versions stay the replicated truth.

The domain tables have foreign keys, the replicated state need not: a reminder may name a visit that was deleted
(and may be restored). A reference to a row missing from its domain table is projected as NULL, and when a row
appears in its domain table again, the rows that name it are projected again, so the link comes back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec
from piccolo.columns.defaults.base import Default

from backend import db
from backend.sync_api import versions
from backend.sync_api.registry import TABLES, SyncedTable
from backend.sync_api.tables import SyncField
from sync.changes import CAUSAL_LENGTH, is_alive


async def project(org_id: uuid.UUID, table: SyncedTable, rows: Iterable[str]) -> None:
    """Bring these rows' domain rows up to date, then re-link the rows that name any that (re)appeared."""
    appeared = await _project_rows(org_id, table, rows)
    if appeared:
        for dependent in TABLES.values():
            for column, target in dependent.references.items():
                if target == table.name and dependent.projected:
                    naming = await rows_naming(org_id, dependent.name, column, appeared)
                    if naming:
                        await _project_rows(org_id, dependent, naming)


async def remove(org_id: uuid.UUID, table: SyncedTable, rows: Iterable[str]) -> None:
    """Delete these rows (dead in the replicated state) from their domain table."""
    domain = table.source
    assert domain is not None
    key = domain._meta.primary_key._meta.db_column_name
    deletes = [(uuid.UUID(row), org_id) for row in sorted(set(rows))]
    await db.executemany(f'DELETE FROM "{domain._meta.tablename}" WHERE "{key}" = {{}} AND org_id = {{}}', deletes)


async def _project_rows(org_id: uuid.UUID, table: SyncedTable, rows: Iterable[str]) -> set[str]:
    domain = table.source
    assert domain is not None and table.projected
    columns = {c._meta.name: c for c in domain._meta.columns}
    json_columns = {name for name, c in columns.items() if c.__class__.__name__ in ("JSON", "JSONB")}
    stored = await versions.read_rows(org_id, table.name, rows)
    ids = [uuid.UUID(row) for row in stored]
    present = (
        {
            r["id"]
            for r in await domain.select(domain._meta.primary_key)
            .where(domain._meta.primary_key.is_in(ids) & (domain.org_id == org_id))  # type: ignore[attr-defined]
            .run()
        }
        if ids
        else set()
    )
    appeared: set[str] = set()
    inserts = []
    deletes: list[tuple[uuid.UUID, uuid.UUID]] = []
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    existing = await _existing_references(table, stored)
    for row, fields in stored.items():
        row_id = uuid.UUID(row)
        exists = row_id in present
        if not is_alive(versions.causal_length(fields)):
            if exists:
                deletes.append((row_id, org_id))
            continue
        if not table.required <= set(fields):
            continue  # not complete yet (its fields may still be on their way)
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if name == CAUSAL_LENGTH or name not in columns:
                continue
            value = msgspec.convert(field.change.value, table.columns[name], strict=True)
            if name in table.references and value is not None and value not in existing[name]:
                value = None  # names a row its domain table doesn't hold (deleted): linked again if it returns
            values[name] = msgspec.json.encode(value).decode() if name in json_columns else value
        if exists:
            names = tuple(sorted(values))
            updates[names].append((*(values[n] for n in names), row_id, org_id))
        else:
            given = {"id": row_id, "org_id": org_id, **values}
            inserts.append(tuple(given[n] if n in given else _default(c) for n, c in columns.items()))
            appeared.add(row)
    # Batched, one statement per set of columns (Piccolo's per-row update costs more than the database here).
    tablename, key = domain._meta.tablename, domain._meta.primary_key._meta.db_column_name
    # Always within the organisation: another tenant may hold a row with the same id.
    await db.executemany(f'DELETE FROM "{tablename}" WHERE "{key}" = {{}} AND org_id = {{}}', deletes)
    for changed, rows_values in updates.items():
        assignments = ", ".join(f'"{columns[n]._meta.db_column_name}" = {{}}' for n in changed)
        await db.executemany(
            f'UPDATE "{tablename}" SET {assignments} WHERE "{key}" = {{}} AND org_id = {{}}', rows_values
        )
    every = ", ".join(f'"{c._meta.db_column_name}"' for c in columns.values())
    await db.insert_rows(f'INSERT INTO "{tablename}" ({every})', inserts)
    return appeared


def _default(column: Any) -> Any:
    """A column's default as Piccolo would insert it."""
    value = column.get_default_value()
    return value.python() if isinstance(value, Default) else value


async def _existing_references(
    table: SyncedTable, stored: dict[str, dict[str, versions.Stored]]
) -> dict[str, set[uuid.UUID]]:
    """For each reference column, which of the rows these rows name exist in their domain table (one query each)."""
    found: dict[str, set[uuid.UUID]] = {}
    for column, target in table.references.items():
        named = {
            uuid.UUID(str(fields[column].change.value))
            for fields in stored.values()
            if column in fields and fields[column].change.value is not None
        }
        source = TABLES[target].source
        assert source is not None
        key = source._meta.primary_key
        found[column] = (
            {r[key._meta.name] for r in await source.select(key).where(key.is_in(list(named))).run()}
            if named
            else set()
        )
    return found


async def rows_naming(org_id: uuid.UUID, table: str, column: str, targets: set[str]) -> list[str]:
    values = [msgspec.json.encode(target).decode() for target in sorted(targets)]
    found = (
        await SyncField.select(SyncField.row_id)
        .where(
            (SyncField.org_id == org_id)
            & (SyncField.tbl == table)
            & (SyncField.col == column)
            & SyncField.value.is_in(values)
        )
        .run()
    )
    return [r["row_id"] for r in found]
