"""Constrained field types shared by the wire schemas: one definition of what a valid value is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

import msgspec
from litestar.params import Parameter

from backend.errors import Invalid

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS84 latitude in degrees")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS84 longitude in degrees")]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="An email address")
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(max_length=300)]
Code = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$", description="A code"),
]
TimeZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="An IANA time zone name")]
Locale = Literal["en", "zh-CN"]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
MinorUnits = Annotated[
    int, msgspec.Meta(ge=0, le=10**11, description="An amount in minor units of the organisation's currency")
]

# Query parameters: Litestar checks `Parameter` bounds on query strings (msgspec.Meta there is not enforced).
Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size, 1..500")]
Offset = Annotated[int, Parameter(ge=0, description="Items to skip")]

_ZONES: frozenset[str] = frozenset(available_timezones())


def check_time_zone(name: str | None, field: str = "time_zone") -> None:
    if name is None:
        return
    if name not in _ZONES:
        raise Invalid.field(field, f"unknown time zone {name!r} (use an IANA name like 'Asia/Shanghai')")
    ZoneInfo(name)


# Local days this far from any real work still convert to UTC instants in every time zone (date.min and date.max
# do not): every date a request names must lie between them.
EARLIEST_DAY, LATEST_DAY = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


def day_problem(day: dt.date) -> str | None:
    return None if EARLIEST_DAY <= day <= LATEST_DAY else f"must be between {EARLIEST_DAY} and {LATEST_DAY}"


def check_days(**days: dt.date | None) -> None:
    """Raise Invalid naming the first of these (query) dates outside EARLIEST_DAY..LATEST_DAY."""
    for name, day in days.items():
        problem = day_problem(day) if day is not None else None
        if problem:
            raise Invalid.field(name, problem, code="validation.date_range")
