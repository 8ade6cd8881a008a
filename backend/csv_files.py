"""CSV files for the imports and exports: decoding and header checks, cell formats (flags, money), and the one
error answer that lists every bad row. Line numbers count the header as line 1, as a spreadsheet shows them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from backend.errors import FieldError, Invalid

MAX_ROWS = 20_000
MAX_REPORTED_ERRORS = 1_000
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}

# ISO 4217 currencies whose minor unit is not the cent (2 decimals); anything not listed has 2.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"), 0),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


class RowError(Exception):
    """One problem of one row, named by its column."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def read_rows(body: bytes, columns: Collection[str], required: Collection[str]) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV file (a BOM is fine) as {column: stripped cell}, only the columns its header names.

    Raises `Invalid` for a file that is unusable as a whole: not UTF-8, no header, unknown or missing columns,
    a row with more cells than the header, no rows, or more than MAX_ROWS rows."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid.field("file", f"is not UTF-8 text (byte {exc.start})", code="import.encoding") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise Invalid.field("file", "is empty; the first line must name the columns", code="import.header")
    unknown = [h for h in header if h not in columns]
    missing = sorted(set(required) - set(header))
    if unknown or missing:
        problems = [f"unknown column {u!r}" for u in unknown] + [f"missing column {m!r}" for m in missing]
        raise Invalid("; ".join(problems), code="import.header", errors=[FieldError("header", p) for p in problems])
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise Invalid.field(f"rows[{reader.line_num}]", "has more cells than the header", code="import.shape")
        rows.append({k: (v or "").strip() for k, v in row.items()})
        if len(rows) > MAX_ROWS:
            raise Invalid.field("file", f"has more than {MAX_ROWS} rows; split it", code="import.too_many_rows")
    if not rows:
        raise Invalid.field("file", "has a header but no rows", code="import.empty")
    return rows


def reject_if_any(errors: list[FieldError]) -> None:
    """The answer to a file with bad rows: every problem (up to MAX_REPORTED_ERRORS), nothing imported."""
    if errors:
        raise Invalid(
            f"{len(errors)} problem(s) in the file; nothing was imported",
            code="import.invalid_rows",
            errors=errors[:MAX_REPORTED_ERRORS],
        )


def row_errors(line: int, errors: Iterable[RowError]) -> list[FieldError]:
    return [FieldError(f"rows[{line}].{e.column}", e.message) for e in errors]


def parse_flag(row: Mapping[str, str], column: str) -> bool | None:
    """A true/false cell (also yes/no, y/n, 1/0); None when empty or absent."""
    value = row.get(column, "").lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowError(column, "use true or false")


def convert_cells(
    cells: Mapping[str, Any], struct: type[msgspec.Struct], columns: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], list[RowError]]:
    """Each value converted to the type of `struct`'s field of that name, so the Struct's own constraints check the
    cells one by one and every bad cell is reported (`columns` maps a field to its column when they differ)."""
    types = {f.name: f.type for f in msgspec.structs.fields(struct)}
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, value in cells.items():
        try:
            values[name] = msgspec.convert(value, types[name], strict=False)
        except msgspec.ValidationError as exc:
            errors.append(RowError((columns or {}).get(name, name), str(exc).split(" - at `$")[0]))
    return values, errors


def currency_decimals(currency: str) -> int:
    """The number of decimals of the currency's minor unit (ISO 4217)."""
    return _DECIMALS.get(currency.upper(), 2)


def parse_amount(text: str, currency: str) -> int:
    """A decimal amount ("4.5") in minor units of `currency` (450 for CNY), exactly; ValueError says why not."""
    if not _AMOUNT.fullmatch(text):
        raise ValueError("is not an amount like 12.50 (digits, a dot for decimals)")
    scaled = Decimal(text).scaleb(currency_decimals(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"has more decimals than {currency} allows")
    return int(scaled)


def format_amount(minor: int | None, currency: str) -> str:
    """Minor units as the decimal amount `parse_amount` reads back ("" for None)."""
    if minor is None:
        return ""
    digits = currency_decimals(currency)
    if digits == 0:
        return str(minor)
    whole, part = divmod(minor, 10**digits)
    return f"{whole}.{part:0{digits}d}"


def write_rows(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
