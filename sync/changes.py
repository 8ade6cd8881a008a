"""A change: one field of one row set to one value at one hybrid-logical time.

A row is a set of fields; each field is a last-writer-wins register ordered by (hlc, node). A row's existence is
the special field `_cl`, its *causal length* (as in cr-sqlite): odd means the row exists, even means deleted.
Creating a row sets `_cl` to 1, deleting sets it to the next even number, restoring to the next odd one, and
`_cl` merges by maximum, so a delete beats every edit made without knowledge of it (docs/sync-protocol.md).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

CAUSAL_LENGTH = "_cl"
# msgspec checks patterns with re.search, where `$` also matches before a final newline: `\Z` is the true end.
NAME = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,62}\Z")]
COLUMN = Annotated[str, msgspec.Meta(pattern=r"^(_cl|[a-z][a-z0-9_]{0,62})\Z")]
ROW_ID = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+\Z")]
STAMP = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{12}-[0-9a-f]{4}\Z")]
NODE = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z")]


class Change(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """table/row/column name the field; value is any JSON value; (hlc, node) orders writes to it."""

    table: NAME
    row: ROW_ID
    column: COLUMN
    value: Any
    hlc: STAMP
    node: NODE

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.row, self.column)

    @property
    def version(self) -> tuple[str, str]:
        return (self.hlc, self.node)


_CANON = msgspec.json.Encoder(order="sorted")


def canonical(value: Any) -> bytes:
    """A value's canonical JSON bytes (sorted keys): the last tie-breaker, so merging is a total order."""
    return _CANON.encode(value)


def wins(new: Change, old: Change) -> bool:
    """True when `new` should replace `old` in the same field's register."""
    # The full key makes this a total order, so merging converges whatever arrives first (even garbage that a
    # policy let through: a non-integer _cl ranks as 0 and ties fall to the canonical bytes).
    if new.column == CAUSAL_LENGTH:
        return (_cl_value(new), new.hlc, new.node, canonical(new.value)) > (
            _cl_value(old),
            old.hlc,
            old.node,
            canonical(old.value),
        )
    # Same stamp from the same node twice means a buggy client; any fixed rule keeps replicas equal.
    return (new.hlc, new.node, canonical(new.value)) > (old.hlc, old.node, canonical(old.value))


def _cl_value(change: Change) -> int:
    value = change.value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def is_alive(causal_length: Any) -> bool:
    """Odd causal length: the row exists. Anything but a positive integer counts as not existing."""
    return valid_causal_length(causal_length) and causal_length % 2 == 1


def valid_causal_length(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**31
