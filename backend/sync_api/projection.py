"""Rows written over sync become rows of their domain table (visits, reminders), so REST, reports and the
server's derivations see them. A live row with every required field is inserted or updated; a deleted one is
removed from the domain table. The field versions stay the replicated truth."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from backend.sync_api import versions
from backend.sync_api.registry import SyncedTable
from sync.changes import CAUSAL_LENGTH, is_alive


def _domain_value(table: SyncedTable, column: str, value: Any, json_columns: set[str]) -> Any:
    typed = msgspec.convert(value, table.columns[column], strict=True)
    if column in json_columns:
        return msgspec.json.encode(typed).decode()
    return typed


async def project(org_id: uuid.UUID, table: SyncedTable, rows: Iterable[str]) -> None:
    domain = table.source
    assert domain is not None and table.projected
    columns = {c._meta.name: c for c in domain._meta.columns}
    json_columns = {name for name, c in columns.items() if c.__class__.__name__ in ("JSON", "JSONB")}
    stored = await versions.read_rows(org_id, table.name, rows)
    for row, fields in stored.items():
        row_id = uuid.UUID(row)
        exists = await domain.exists().where(domain._meta.primary_key == row_id).run()
        if not is_alive(versions.causal_length(fields)):
            if exists:
                await domain.delete().where(domain._meta.primary_key == row_id).run()
            continue
        if not table.required <= set(fields):
            continue  # not complete yet (its fields may still be on their way)
        values: dict[Any, Any] = {
            columns[name]: _domain_value(table, name, f.change.value, json_columns)
            for name, f in fields.items()
            if name != CAUSAL_LENGTH and name in columns
        }
        if exists:
            await domain.update(values).where(domain._meta.primary_key == row_id).run()
        else:
            await domain.insert(domain(id=row_id, org_id=org_id, **{c._meta.name: v for c, v in values.items()})).run()
