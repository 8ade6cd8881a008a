"""CSV exports of the report tables: a header of the row type's fields, one line per row, empty for null."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import msgspec


def table_csv(kind: type[msgspec.Struct], rows: Sequence[msgspec.Struct]) -> str:
    """`rows` (all of type `kind`) as CSV (RFC 4180 line ends), the columns in the order of `kind`'s fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(kind.__struct_fields__)
    for row in rows:
        values = msgspec.to_builtins(row)
        writer.writerow(["" if values[name] is None else values[name] for name in kind.__struct_fields__])
    return out.getvalue()
