"""Checksums of a replica's state, so a client can tell it has diverged and re-download.

Each winning field version has a 32-bit fingerprint: FNV-1a over the UTF-8 of
`table \\x1f row \\x1f column \\x1f hlc \\x1f node`. A state's checksum is the sum of its fingerprints modulo
2**32: additive, so the server can keep it in SQL (`SUM`) and a client can update it as versions come and go.
It covers the fields of live rows only (odd `_cl`, the `_cl` itself included): a missed delete or restore shows,
and a replica may forget old tombstones, as the server does, without disturbing it. It covers which version of
every field a replica holds, not the bytes of the values: what goes wrong in sync is a missed or duplicated
version, and this catches both.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync.changes import CAUSAL_LENGTH, Change, is_alive

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_SEPARATOR = "\x1f"


def fingerprint(table: str, row: str, column: str, hlc: str, node: str) -> int:
    value = _FNV_OFFSET
    for byte in _SEPARATOR.join((table, row, column, hlc, node)).encode():
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def change_fingerprint(change: Change) -> int:
    return fingerprint(change.table, change.row, change.column, change.hlc, change.node)


def checksum(changes: Iterable[Change]) -> int:
    """The sum of these versions' fingerprints modulo 2**32."""
    return sum(change_fingerprint(c) for c in changes) & 0xFFFFFFFF


def live_changes(changes: Iterable[Change]) -> list[Change]:
    """The versions that belong to live rows (the rows' odd `_cl` included)."""
    by_row: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        by_row.setdefault((change.table, change.row), []).append(change)
    live = []
    for row_changes in by_row.values():
        cl = next((c.value for c in row_changes if c.column == CAUSAL_LENGTH), None)
        if is_alive(cl):
            live.extend(row_changes)
    return live


def state_checksum(changes: Iterable[Change]) -> int:
    """The checksum of a state given as its winning versions: live rows only (docs/sync-protocol.md 6)."""
    return checksum(live_changes(changes))
