"""SQL text with its arguments kept in order, and the conversions of raw driver values the reports need.

The reports run hand-written SQL through `db.fetch` (`{}` placeholders, one statement per aggregate). A fragment
carries its arguments, so pieces can be put together in any order and the arguments still follow the text.
Raw SQLite hands back text where Piccolo would convert (a UUID, a date, a timestamp that went through an
expression); PostgreSQL hands back typed values: the helpers below accept both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

# When an inspection happened: when it was started, else when the server first stored it.
AT = "COALESCE(i.started_at, i.created_at)"


class Sql(NamedTuple):
    text: str
    args: tuple[Any, ...] = ()


def sql(*parts: Sql | str) -> Sql:
    """The parts joined by spaces, with their arguments in the same order."""
    texts: list[str] = []
    args: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        else:
            texts.append(part.text)
            args.extend(part.args)
    return Sql(" ".join(texts), tuple(args))


def all_of(conditions: Iterable[Sql | str]) -> Sql:
    """The conditions joined by AND (TRUE when there are none)."""
    parts = [c if isinstance(c, Sql) else Sql(c) for c in conditions]
    if not parts:
        return Sql("1 = 1")
    return Sql(" AND ".join(f"({p.text})" for p in parts), tuple(a for p in parts for a in p.args))


def one_of(column: str, values: Sequence[Any]) -> Sql:
    """`column IN (...)` with one placeholder per value (FALSE for no values): the same text on both engines."""
    if not values:
        return Sql("1 = 0")
    return Sql(f"{column} IN ({', '.join(['{}'] * len(values))})", tuple(values))


def bucket_index(expression: str, boundaries: Sequence[dt.datetime], first: int = 0) -> Sql:
    """The index of the bucket `expression` falls in, as a balanced CASE tree over the sorted inner boundaries.

    Bucket `first + k` holds the instants from `boundaries[k - 1]` (inclusive) to `boundaries[k]` (exclusive); the
    caller restricts the rows to the outer bounds. Instants compare correctly on both engines (native timestamps
    on PostgreSQL, fixed-width UTC text on SQLite), so this buckets by local days or weeks in any time zone,
    daylight saving time included, in about log2(buckets) comparisons a row.
    """
    if not boundaries:
        return Sql(str(first))
    middle = len(boundaries) // 2
    below = bucket_index(expression, boundaries[:middle], first)
    above = bucket_index(expression, boundaries[middle + 1 :], first + middle + 1)
    return sql(f"CASE WHEN {expression} <", Sql("{}", (boundaries[middle],)), "THEN", below, "ELSE", above, "END")


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_key(value: Any) -> str | None:
    return None if value is None else str(value)


def as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def as_instant(value: Any) -> dt.datetime:
    """A timestamp as an aware UTC datetime (SQLite stores `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00` text)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def rounded(value: Any, places: int) -> float | None:
    return None if value is None else round(float(value), places)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
