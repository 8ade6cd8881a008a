"""Which changes a caller may push: table, column, role, row ownership, value type, references, new rows.

Reviewed in one pass over the push with the rows it touches read once. The same rules apply to every client;
what is refused is refused with a code and the column named (docs/sync-protocol.md section 4).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence

import msgspec

from backend.auth.principal import Principal
from backend.fields import day_problem
from backend.sync_api import projection, versions
from backend.sync_api.registry import TABLES, SyncedTable
from backend.sync_api.scope import scope_of
from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change, canonical, is_alive, valid_causal_length
from sync.store import Rejection

# Tables where the server derives ids of its own rows as UUIDv5 (backend/visits/notices.py): a client's new row
# must not take one, or it would stand in for the server's alert.
SERVER_DERIVED_IDS = frozenset({"reminder"})


class SyncPolicy:
    def __init__(self, principal: Principal, reader: versions.Reader | None = None) -> None:
        self.principal = principal
        self.reader = reader or versions.Reader(principal.org_id)
        self._taken: set[tuple[str, str]] = set()

    async def review(self, changes: Sequence[Change]) -> list[Rejection | None]:
        verdicts: list[Rejection | None] = [self._static(c) for c in changes]
        by_table: dict[str, set[str]] = defaultdict(set)
        for change, verdict in zip(changes, verdicts, strict=True):
            if verdict is None:
                by_table[change.table].add(change.row)
        stored = {t: await self.reader.rows(t, rows) for t, rows in by_table.items()}
        # What this push brings for rows new to the server: their _cl and fields.
        incoming: dict[tuple[str, str], dict[str, Change]] = defaultdict(dict)
        for change, verdict in zip(changes, verdicts, strict=True):
            if verdict is None:
                incoming[(change.table, change.row)][change.column] = change
        references = await self._reference_checker(changes, verdicts, incoming)
        self._taken = await self._ids_of_other_tenants(incoming, stored)
        for index, change in enumerate(changes):
            if verdicts[index] is None:
                verdicts[index] = await self._dynamic(
                    change, stored[change.table].get(change.row), incoming, references
                )
        return _without_orphans(changes, _whole_new_rows(changes, verdicts, stored), stored)

    def _static(self, change: Change) -> Rejection | None:
        table = TABLES.get(change.table)
        if table is None:
            return Rejection(m.UNKNOWN_TABLE, f"there is no synced table {change.table!r}", "table")
        if change.column != CAUSAL_LENGTH and change.column not in table.columns:
            return Rejection(m.UNKNOWN_COLUMN, f"{change.table} has no column {change.column!r}", change.column)
        if change.column in table.server_owned:
            return Rejection(m.SERVER_OWNED, f"{change.table}.{change.column} is set by the server", change.column)
        if self.principal.role not in table.writable_by:
            return Rejection(
                m.NOT_ALLOWED, f"a {self.principal.role} cannot change {change.table} over sync", change.column
            )
        if table.source is not None and not _is_uuid(change.row):
            return Rejection(m.INVALID_VALUE, f"{change.table} ids are UUIDs", "row")
        if change.column == CAUSAL_LENGTH:
            if not valid_causal_length(change.value):
                return Rejection(m.INVALID_VALUE, "_cl must be a positive integer", CAUSAL_LENGTH)
            return None
        try:
            value = msgspec.convert(change.value, table.columns[change.column], strict=True)
        except msgspec.ValidationError as exc:
            return Rejection(m.INVALID_VALUE, f"{change.column}: {str(exc).split(' - at')[0]}", change.column)
        if isinstance(value, dt.date):  # dates and instants: within the days any work can have (backend/fields.py)
            problem = day_problem(value.date() if isinstance(value, dt.datetime) else value)
            if problem:
                return Rejection(m.INVALID_VALUE, f"{change.column}: {problem}", change.column)
        return None

    async def _dynamic(
        self,
        change: Change,
        stored: dict[str, versions.Stored] | None,
        incoming: dict[tuple[str, str], dict[str, Change]],
        references: dict[tuple[str, str], bool],
    ) -> Rejection | None:
        table = TABLES[change.table]
        known = stored.get(change.column) if stored else None
        if known is not None and known.change == change and canonical(known.change.value) == canonical(change.value):
            return None  # already applied: acknowledged again, changes nothing (whatever changed since)
        if stored:
            owner = next(iter(stored.values())).owner_id
            if owner != self.principal.user_id:
                # Another user's row (or one that isn't theirs to write): as if it did not exist for writing.
                return Rejection(m.NOT_ALLOWED, f"this {change.table} belongs to someone else", change.column)
            kept = stored.get(change.column)
            if change.column in table.immutable and kept and canonical(kept.change.value) != canonical(change.value):
                return Rejection(
                    m.NOT_ALLOWED, f"{change.table}.{change.column} cannot change once the row exists", change.column
                )
        else:
            brought = incoming[(change.table, change.row)]
            cl = brought.get(CAUSAL_LENGTH)
            if cl is None or not is_alive(cl.value):
                return Rejection(
                    m.NO_SUCH_ROW, f"no {change.table} {change.row} here; create it with _cl 1", change.column
                )
            missing = sorted(table.required - set(brought))
            if missing:
                return Rejection(m.INCOMPLETE_ROW, f"a new {change.table} needs {', '.join(missing)}", missing[0])
            if (change.table, change.row) in self._taken:
                return Rejection(m.NOT_ALLOWED, f"{change.table} id {change.row} is taken; make a new one", "row")
            if change.table in SERVER_DERIVED_IDS and uuid.UUID(change.row).version == 5:
                return Rejection(
                    m.INVALID_VALUE, f"{change.table} ids of version 5 are the server's; use a random id", "row"
                )
            if table.derived_id is not None and change.column == CAUSAL_LENGTH:
                try:
                    expected = table.derived_id({k: c.value for k, c in brought.items()})
                except ValueError:
                    expected = None  # a bad key value is refused on its own column
                if expected is not None and expected != change.row:
                    return Rejection(
                        m.INVALID_VALUE,
                        f"a {change.table}'s id is derived from its {' and '.join(sorted(table.required))}: "
                        f"expected {expected}",
                        "row",
                    )
        if change.column in table.agrees:
            problem = await self._disagreement(table, change, stored, incoming)
            if problem:
                return Rejection(m.INVALID_VALUE, problem, change.column)
        target = table.references.get(change.column)
        if target and change.value is not None and not references.get((target, str(change.value)), False):
            return Rejection(m.NO_SUCH_ROW, f"{change.column}: no {target} {change.value} you can see", change.column)
        if change.column == CAUSAL_LENGTH and not is_alive(change.value):
            blocker = await self._delete_blocker(table, change.row, incoming)
            if blocker:
                return Rejection(m.NOT_ALLOWED, blocker, CAUSAL_LENGTH)
        if change.column == CAUSAL_LENGTH and is_alive(change.value) and stored:
            gone = await self._dead_reference(table, change.row, stored, incoming)
            if gone:
                return Rejection(m.NO_SUCH_ROW, gone, CAUSAL_LENGTH)
        return None

    async def _reference_checker(
        self,
        changes: Sequence[Change],
        verdicts: list[Rejection | None],
        incoming: dict[tuple[str, str], dict[str, Change]],
    ) -> dict[tuple[str, str], bool]:
        """For every row a change names (store_id, visit_id), whether the caller can see it (or creates it now)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for change, verdict in zip(changes, verdicts, strict=True):
            table = TABLES.get(change.table)
            if verdict is None and table and change.column in table.references and change.value is not None:
                wanted[table.references[change.column]].add(str(change.value))
        if not wanted:
            return {}
        scope = await scope_of(self.principal)
        seen: dict[tuple[str, str], bool] = {}
        for target, rows in wanted.items():
            stored = await self.reader.rows(target, rows)
            for row in rows:
                fields = stored.get(row)
                if fields:
                    any_field = next(iter(fields.values()))
                    alive = is_alive(versions.causal_length(fields))
                    seen[(target, row)] = alive and scope.sees(
                        org_wide=any_field.org_wide,
                        owner_id=any_field.owner_id,
                        territory_id=any_field.territory_id,
                    )
                else:
                    cl = incoming.get((target, row), {}).get(CAUSAL_LENGTH)
                    seen[(target, row)] = cl is not None and is_alive(cl.value)
        return seen

    async def _disagreement(
        self,
        table: SyncedTable,
        change: Change,
        stored: dict[str, versions.Stored] | None,
        incoming: dict[tuple[str, str], dict[str, Change]],
    ) -> str | None:
        """Why `change` disagrees with the row its reference names (an inspection's store must be its visit's)."""
        link, theirs = table.agrees[change.column]
        target = table.references[link]
        brought = incoming.get((change.table, change.row), {})
        named = (
            brought[link].value
            if link in brought
            else (stored[link].change.value if stored and link in stored else None)
        )
        if named is None:
            return None
        value = incoming.get((target, str(named)), {}).get(theirs)
        if value is not None:
            actual = value.value
        else:
            fields = (await self.reader.rows(target, [str(named)])).get(str(named), {})
            if theirs not in fields:
                return None  # no such row: refused as a reference
            actual = fields[theirs].change.value
        if canonical(actual) != canonical(change.value):
            return f"{change.column} must be the {theirs} of {target} {named} ({actual})"
        return None

    async def _delete_blocker(
        self, table: SyncedTable, row: str, incoming: dict[tuple[str, str], dict[str, Change]]
    ) -> str | None:
        """Why `row` cannot be deleted: a row that needs it (an item its inspection, a photo its visit) stays alive
        after this push, in the replicated state or created by this push."""
        for dependent in TABLES.values():
            for column, target in dependent.references.items():
                if target != table.name or column not in dependent.required:
                    continue
                naming = set(await projection.rows_naming(self.principal.org_id, dependent.name, column, {row}))
                naming |= {
                    other
                    for (name, other), fields in incoming.items()
                    if name == dependent.name and column in fields and str(fields[column].value) == row
                }
                stored = await self.reader.rows(dependent.name, naming)
                for other in naming:
                    known = versions.causal_length(stored.get(other, {})) or 0
                    brought = incoming.get((dependent.name, other), {}).get(CAUSAL_LENGTH)
                    length = max(known, int(brought.value) if brought and valid_causal_length(brought.value) else 0)
                    if length and is_alive(length):
                        return (
                            f"this {table.name} still has {dependent.name} {other}; delete that first "
                            "(in the same push is fine)"
                        )
        return None

    async def _dead_reference(
        self,
        table: SyncedTable,
        row: str,
        stored: dict[str, versions.Stored],
        incoming: dict[tuple[str, str], dict[str, Change]],
    ) -> str | None:
        """Why a deleted row cannot come back: a row it needs (its visit, its inspection) is deleted."""
        brought = incoming.get((table.name, row), {})
        for column, target in table.references.items():
            if column not in table.required:
                continue
            value = (
                brought[column].value
                if column in brought
                else (stored[column].change.value if column in stored else None)
            )
            if value is None:
                continue
            fields = (await self.reader.rows(target, [str(value)])).get(str(value), {})
            length = versions.causal_length(fields) or 0
            other = incoming.get((target, str(value)), {}).get(CAUSAL_LENGTH)
            if other is not None and valid_causal_length(other.value):
                length = max(length, int(other.value))
            if not is_alive(length):
                return f"its {target} {value} is deleted; restore that first"
        return None

    async def _ids_of_other_tenants(
        self,
        incoming: dict[tuple[str, str], dict[str, Change]],
        stored: dict[str, dict[str, dict[str, versions.Stored]]],
    ) -> set[tuple[str, str]]:
        """New rows whose id another organisation's domain table already holds (ids are global keys there)."""
        taken: set[tuple[str, str]] = set()
        wanted: dict[str, list[uuid.UUID]] = defaultdict(list)
        for name, row in incoming:
            table = TABLES.get(name)
            if table and table.source is not None and row not in stored.get(name, {}) and _is_uuid(row):
                wanted[name].append(uuid.UUID(row))
        for name, ids in wanted.items():
            source = TABLES[name].source
            assert source is not None
            key = source._meta.primary_key
            found = await source.select(key).where(key.is_in(ids) & (source.org_id != self.principal.org_id)).run()  # type: ignore[attr-defined]
            taken |= {(name, str(r[key._meta.name])) for r in found}
        return taken


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _whole_new_rows(
    changes: Sequence[Change],
    verdicts: list[Rejection | None],
    stored: dict[str, dict[str, dict[str, versions.Stored]]],
) -> list[Rejection | None]:
    """A new row is created whole or not at all: if its _cl or a required field is refused, so is the rest."""
    blocked: dict[tuple[str, str], Rejection] = {}
    for change, verdict in zip(changes, verdicts, strict=True):
        table = TABLES.get(change.table)
        essential = change.column == CAUSAL_LENGTH or (table is not None and change.column in table.required)
        new = change.row not in stored.get(change.table, {})
        if verdict is not None and essential and new:
            blocked.setdefault((change.table, change.row), verdict)
    return [blocked.get((c.table, c.row)) if v is None else v for c, v in zip(changes, verdicts, strict=True)]


def _without_orphans(
    changes: Sequence[Change],
    verdicts: list[Rejection | None],
    stored: dict[str, dict[str, dict[str, versions.Stored]]],
) -> list[Rejection | None]:
    """A change that needs a row this push failed to create or restore is refused too (its domain row would name
    nothing): a reference to it, or the creation or restoring of a row whose required reference names it. Repeated
    until nothing more is refused."""
    brought: dict[tuple[str, str], dict[str, object]] = defaultdict(dict)
    for change in changes:
        brought[(change.table, change.row)][change.column] = change.value
    while True:
        refused = {
            (c.table, c.row)
            for c, v in zip(changes, verdicts, strict=True)
            if v is not None
            and c.column == CAUSAL_LENGTH
            and not is_alive(versions.causal_length(stored.get(c.table, {}).get(c.row, {})))
        }
        more = False
        for index, change in enumerate(changes):
            table = TABLES.get(change.table)
            if verdicts[index] is not None or table is None:
                continue
            named: list[tuple[str, str]] = []
            if change.column in table.references and change.value is not None:
                named.append((table.references[change.column], str(change.value)))
            if change.column == CAUSAL_LENGTH and valid_causal_length(change.value) and is_alive(change.value):
                fields = stored.get(change.table, {}).get(change.row, {})
                for column in table.required & set(table.references):
                    value = brought[(change.table, change.row)].get(column)
                    if value is None and column in fields:
                        value = fields[column].change.value
                    if value is not None:
                        named.append((table.references[column], str(value)))
            hit = next((n for n in named if n in refused), None)
            if hit is not None:
                verdicts[index] = Rejection(
                    m.NO_SUCH_ROW, f"the {hit[0]} {hit[1]} it needs was refused in this push", change.column
                )
                more = True
        verdicts = _whole_new_rows(changes, verdicts, stored)
        if not more:
            return verdicts
