"""A change: one field of one row set to one value at one hybrid-logical time.

A row is a set of fields; each field is a last-writer-wins register ordered by (hlc, node). A row's existence is
the special field `_cl`, its *causal length* (as in cr-sqlite): odd means the row exists, even means deleted.
Creating a row sets `_cl` to 1, deleting sets it to the next even number, restoring to the next odd one, and
`_cl` merges by maximum, so a delete beats every edit made without knowledge of it (docs/sync-protocol.md).
"""

from __future__ import annotations

from decimal import Decimal
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


def canonical(value: Any) -> bytes:
    """A value's canonical JSON (docs/sync-protocol.md 2.1): the last tie-breaker, so merging is a total order.

    Pinned so that every language produces the same bytes: object keys sorted by UTF-16 code units, no
    whitespace, strings escaped as JSON.stringify does, and every number written as ECMAScript's
    Number::toString writes its double (`1.0` is `1`, `1e16` is `10000000000000000`, `1e21` is `1e+21`).
    """
    return _canonical(value).encode()


def _canonical(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return js_number(value)
    return msgspec.json.encode(value).decode()  # str, bool, None: msgspec writes them as JSON.stringify does


def js_number(number: float) -> str:
    """ECMAScript Number::toString of the double nearest `number` (ECMA-262, 6.1.6.1.20)."""
    x = float(number)
    if x != x or x in (float("inf"), float("-inf")):
        return "null"  # as JSON.stringify writes them (JSON has neither)
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that read back as the same double, as ECMAScript requires.
    digits, exponent = Decimal(repr(abs(x))).normalize().as_tuple()[1:]
    s = "".join(map(str, digits))
    k, n = len(s), len(s) + int(exponent)  # value = 0.s x 10^n
    if k <= n <= 21:
        text = s + "0" * (n - k)
    elif 0 < n <= 21:
        text = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + s
    else:
        text = s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if n - 1 >= 0 else "-") + str(abs(n - 1))
    return sign + text


def wins(new: Change, old: Change) -> bool:
    """True when `new` should replace `old` in the same field's register."""
    # The full key makes this a total order, so merging converges whatever arrives first (even garbage that a
    # policy let through: a non-integer _cl ranks as 0 and ties fall to the canonical bytes).
    if new.column == CAUSAL_LENGTH:
        ours, theirs = (_cl_value(new), new.hlc, new.node), (_cl_value(old), old.hlc, old.node)
    else:
        ours, theirs = (0, new.hlc, new.node), (0, old.hlc, old.node)
    if ours != theirs:
        return ours > theirs
    # Same stamp from the same node twice means a buggy client; any fixed rule keeps replicas equal.
    return canonical(new.value) > canonical(old.value)


def _cl_value(change: Change) -> int:
    value = change.value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def is_alive(causal_length: Any) -> bool:
    """Odd causal length: the row exists. Anything but a positive integer counts as not existing."""
    return valid_causal_length(causal_length) and causal_length % 2 == 1


def valid_causal_length(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**31
