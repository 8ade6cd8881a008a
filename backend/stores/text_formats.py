"""Compact text forms of opening hours and visit frequencies, for CSV files people edit in a spreadsheet.

Opening hours: `mon-fri 08:00-12:00 14:00-20:00; sat 09:00-13:00` (a day not named is closed), or the JSON form.
Frequency: `weekly:mon,thu`, `every 2 weeks:tue`, `monthly`, `monthly:2`, `monthly:2:mon,wed`, or the JSON form.
"""

from __future__ import annotations

import itertools
import re

import msgspec

from backend.stores.schemas import (
    WEEKDAYS,
    Interval,
    Monthly,
    OpeningHours,
    VisitFrequency,
    Weekday,
    Weekly,
)

_DAY_SPEC = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?$")
_INTERVAL = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


def check_opening_hours(hours: OpeningHours | None) -> str | None:
    """Why these hours are inconsistent (overlapping or unsorted intervals), or None."""
    for day, intervals in (hours or {}).items():
        ordered = sorted(intervals, key=lambda i: i.opens)
        for before, after in itertools.pairwise(ordered):
            if after.opens < before.closes:
                return f"{day}: intervals {before.opens}-{before.closes} and {after.opens}-{after.closes} overlap"
    return None


def _days(spec: str) -> list[Weekday]:
    days: list[Weekday] = []
    for part in spec.split(","):
        match = _DAY_SPEC.match(part.strip())
        if not match:
            raise ValueError(f"unknown day {part.strip()!r} (use mon..sun, or a range like mon-fri)")
        first = WEEKDAYS.index(match.group(1))
        last = WEEKDAYS.index(match.group(2)) if match.group(2) else first
        if last < first:
            raise ValueError(f"day range {part.strip()!r} runs backwards")
        days.extend(WEEKDAYS[first : last + 1])
    return days


def parse_opening_hours(text: str) -> OpeningHours | None:
    text = text.strip()
    if not text:
        return None
    if text.startswith("{"):
        return msgspec.json.decode(text, type=OpeningHours)
    hours: OpeningHours = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        day_spec, _, rest = clause.partition(" ")
        days = _days(day_spec.lower())
        rest = rest.strip()
        intervals: list[Interval] = []
        if rest.lower() != "closed":
            if not rest:
                raise ValueError(f"{day_spec}: give times like 08:00-12:00, or 'closed'")
            for token in rest.split():
                match = _INTERVAL.match(token)
                if not match:
                    raise ValueError(f"{token!r} is not an interval like 08:00-12:00")
                opens, closes = (t if len(t) == 5 else "0" + t for t in match.groups())
                try:
                    intervals.append(msgspec.convert([opens, closes], Interval))
                except msgspec.ValidationError as exc:
                    detail = str(exc).split(" - at")[0]
                    if "regex" in detail:
                        detail = "times run from 00:00 to 24:00"
                    raise ValueError(f"{token!r}: {detail}") from None
        for day in days:
            if day in hours:
                raise ValueError(f"{day} is given twice")
            if intervals:
                hours[day] = intervals
    problem = check_opening_hours(hours)
    if problem:
        raise ValueError(problem)
    return hours


def format_opening_hours(hours: OpeningHours | None) -> str:
    if hours is None:
        return ""
    return "; ".join(
        f"{day} " + " ".join(f"{i.opens}-{i.closes}" for i in hours[day]) for day in WEEKDAYS if hours.get(day)
    )


def parse_frequency(text: str) -> VisitFrequency:
    text = text.strip().lower()
    if text.startswith("{"):
        return msgspec.json.decode(text, type=VisitFrequency)
    head, _, tail = text.partition(":")
    head = head.strip()
    if head == "weekly":
        return msgspec.convert({"kind": "weekly", "weekdays": _days(tail or "mon")}, VisitFrequency)
    every = re.fullmatch(r"every (\d+) weeks?", head)
    if every:
        return msgspec.convert(
            {"kind": "weekly", "weekdays": _days(tail or "mon"), "every_weeks": int(every.group(1))},
            VisitFrequency,
        )
    if head == "monthly":
        times, _, days = tail.partition(":")
        return msgspec.convert(
            {"kind": "monthly", "times": int(times or 1), "weekdays": _days(days) if days else []},
            VisitFrequency,
        )
    raise ValueError(f"unknown frequency {text!r} (weekly:mon,thu / every 2 weeks:tue / monthly:2)")


def format_frequency(frequency: VisitFrequency) -> str:
    if isinstance(frequency, Weekly):
        days = ",".join(frequency.weekdays)
        return f"weekly:{days}" if frequency.every_weeks == 1 else f"every {frequency.every_weeks} weeks:{days}"
    assert isinstance(frequency, Monthly)
    return f"monthly:{frequency.times}" + (f":{','.join(frequency.weekdays)}" if frequency.weekdays else "")
