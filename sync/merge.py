"""Merging changes into a replica: per-field last-writer-wins, rows alive by causal length.

Merging is commutative, associative and idempotent: any set of changes, delivered in any order, any number of
times, gives the same state (tests/sync/test_merge_properties.py checks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sync.changes import CAUSAL_LENGTH, Change, is_alive, wins

RowKey = tuple[str, str]


class Replica:
    """Every field's winning change, by (table, row). The in-memory model of a replica's state."""

    def __init__(self) -> None:
        self.fields: dict[RowKey, dict[str, Change]] = {}

    def apply(self, change: Change) -> bool:
        """Merge one change; True when it became the field's value (False when older or already known)."""
        row = self.fields.setdefault((change.table, change.row), {})
        current = row.get(change.column)
        # Not `current == change`: True == 1 in Python, yet their JSON differs and `wins` tells them apart.
        if current is not None and not wins(change, current):
            return False
        row[change.column] = change
        return True

    def apply_all(self, changes: Iterable[Change]) -> int:
        return sum(self.apply(change) for change in changes)

    def causal_length(self, table: str, row: str) -> int | None:
        change = self.fields.get((table, row), {}).get(CAUSAL_LENGTH)
        return change.value if change is not None else None

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        """The live rows of a table as {row id: {column: value}} (tombstoned rows left out)."""
        live: dict[str, dict[str, Any]] = {}
        for (name, row), fields in self.fields.items():
            cl = fields.get(CAUSAL_LENGTH)
            if name == table and cl is not None and is_alive(cl.value):
                live[row] = {column: c.value for column, c in fields.items() if column != CAUSAL_LENGTH}
        return live

    def changes(self) -> list[Change]:
        """Every winning change: the whole state as a change log with no superseded entries."""
        return [change for fields in self.fields.values() for change in fields.values()]

    def state(self) -> dict[RowKey, dict[str, tuple[Any, str, str]]]:
        """A comparable snapshot: values with their versions, tombstones included."""
        return {
            key: {column: (c.value, c.hlc, c.node) for column, c in fields.items()}
            for key, fields in self.fields.items()
        }
