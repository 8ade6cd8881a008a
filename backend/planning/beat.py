"""The beat plan: which stores a rep visits on which working day over the next weeks, from each store's visit
frequency, opening days and last visit. Pure: the caller loads stores and working days; nothing here touches the
database. The daily route (order and times) is planned separately, one day at a time.

Decisions (tests/backend/planning/test_beat.py checks each):

- **The horizon covers whole weeks**: Monday of the first working day's week to Sunday of the last one's. A visit
  belongs to the plan whose weeks contain its date (weekly) or the middle of its part of the month (monthly), so
  plans over consecutive weeks neither drop nor double a visit. Days of those weeks missing from `days` (weekends,
  holidays, days off, the days before a plan starting mid-week) are not working days.
- **Weekly** (`weekdays`, every N weeks): one visit on each listed weekday of every Nth week. With a last visit
  the rhythm continues from its week (due in its week + N, + 2N, ...; in the last visit's own week only the
  listed weekdays after it); a store overdue by more than N weeks is due in the first week and every N after.
  Without one, a store with N > 1 takes the phase (which of the first N weeks) that loads its days least, largest
  stores first, so fortnightly stores split between odd and even weeks. These visits are fixed: a day may go over
  `minutes_per_day` because of them (`summary.overloaded`). A visit whose weekday is not a working day or on which
  the store is closed moves to the nearest working day of the same week on which the store is open and not yet
  visited (the earlier one on a tie), and the plan says so in `moved`; with no such day it is `unplannable`.
- **Monthly** (`times` a month): the month is cut into `times` equal parts (2x: 1-15 and 16-end) with one visit
  in each, on a working day of that part on which the store is open, preferring the listed weekdays when a
  preferred day has room. A partial month at an edge of the horizon counts pro rata, part by part: a part is due
  in the plan that covers its middle day. So the visits a plan holds are `times` * the share of the month it
  covers, rounded, and the next plan takes the rest. A part is done when the last visit falls in it or later, and
  two visits of a store (the last one included) are at least half the shortest interval apart (28 / (2 * times)
  days: 14 for 1x, 7 for 2x, 3 for 4x), so a visit made late in one part does not pull the next one close.
- **Balancing** (beat_cluster.py): monthly visits are placed after all weekly ones, on the allowed day where they
  add the least travel, with a penalty for going over the mean day, and never past `minutes_per_day`; a visit that
  fits nowhere is unplannable ("over_capacity"), lowest priority first. A day's minutes are its visits plus an
  estimate of the travel between them (a spanning tree over its stores).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import Literal

import msgspec
import numpy as np

from backend.planning.beat_cluster import DayBook, Flexible, hilbert_keys, place_flexible, straight_travel_minutes
from backend.stores.schemas import WEEKDAYS, Monthly, OpeningHours, VisitFrequency, Weekday, Weekly

MoveReason = Literal["not_working_day", "closed"]
UnplannableReason = Literal["no_working_day", "closed", "no_free_day", "spacing", "over_capacity"]
Travel = Callable[["BeatStore", "BeatStore"], float]


class BeatStore(msgspec.Struct, frozen=True, kw_only=True):
    """A store as the beat planner sees it; `open_weekdays(store.opening_hours)` gives `open_weekdays`."""

    id: str
    lat: float
    lng: float
    frequency: VisitFrequency
    open_weekdays: frozenset[Weekday] = frozenset(WEEKDAYS)
    visit_minutes: int = 30
    priority: int = 3


class BeatDay(msgspec.Struct, frozen=True):
    date: dt.date
    store_ids: list[str]  # in no particular order: the day's route puts them in order
    visit_minutes: int
    travel_minutes: int  # an estimate, see beat_cluster.py
    minutes: int


class Move(msgspec.Struct, frozen=True):
    """A weekly visit planned on another day of its week than its weekday."""

    store_id: str
    from_date: dt.date
    to_date: dt.date
    why: MoveReason


class Unplannable(msgspec.Struct, frozen=True):
    """A due visit with no day: due on a date (weekly) or within a part of a month (monthly)."""

    store_id: str
    due_from: dt.date
    due_to: dt.date
    reason: UnplannableReason
    detail: str


class BeatSummary(msgspec.Struct, frozen=True):
    visits: int
    unplannable: int
    min_minutes: int
    max_minutes: int
    mean_minutes: float
    overloaded: list[dt.date]  # days over minutes_per_day, because of fixed (weekly) visits


class BeatPlan(msgspec.Struct, frozen=True):
    days: list[BeatDay]
    moved: list[Move]
    unplannable: list[Unplannable]
    summary: BeatSummary


def open_weekdays(opening_hours: OpeningHours | None) -> frozenset[Weekday]:
    """The weekdays a store opens: those with at least one interval; unknown hours (None) count as always open."""
    if opening_hours is None:
        return frozenset(WEEKDAYS)
    return frozenset(day for day, intervals in opening_hours.items() if intervals)


_DETAILS: dict[UnplannableReason, str] = {
    "no_working_day": "no working day in that week or part of the month",
    "closed": "the store is closed on every working day in that week or part of the month",
    "no_free_day": "every open working day of that week already has a visit to the store",
    "spacing": "every open working day left is too close to another visit to the store",
    "over_capacity": "every day it could go on is full",
}


def plan_beat(
    stores: Sequence[BeatStore],
    days: Sequence[dt.date],
    *,
    last_visits: Mapping[str, dt.date] = MappingProxyType({}),
    minutes_per_day: int = 420,
    travel: Travel | None = None,
) -> BeatPlan:
    """Plan every visit due in the horizon on one of `days` (the rep's working days), as the module docstring
    describes. `travel(a, b)` gives minutes from store a to store b (called once per ordered pair, so pass a
    lookup); the default is straight-line distance with a detour factor at town speed. The result depends only
    on the arguments, never on the order of `stores`."""
    ordered = sorted(stores, key=lambda s: s.id)
    if len({s.id for s in ordered}) != len(ordered):
        raise ValueError("store ids must be unique")
    horizon = _Horizon(sorted(set(days)))
    if travel is None:
        matrix = straight_travel_minutes([s.lat for s in ordered], [s.lng for s in ordered])
    else:
        matrix = np.array([[0.0 if a is b else travel(a, b) for b in ordered] for a in ordered]).reshape(
            len(ordered), len(ordered)
        )
    book = DayBook(horizon.days, matrix)
    moved: list[Move] = []
    missed: list[Unplannable] = []
    if not horizon.days:
        return _plan(book, ordered, moved, missed, minutes_per_day)

    # Stores whose weeks are known first, so that the others choose their phase against the real load.
    weekly = [(i, s) for i, s in enumerate(ordered) if isinstance(s.frequency, Weekly)]
    weekly.sort(key=lambda x: (0,) if x[1].id in last_visits or _every(x[1]) == 1 else (1, -_weekly_load(x[1])))
    for i, store in weekly:
        weeks = _due_weeks(store, horizon, last_visits.get(store.id), book)
        for week in weeks:
            outcome = _weekly_week(store, horizon, week, last_visits.get(store.id))
            for day, move in outcome.visits:
                book.add(day, i, store.visit_minutes)
                if move is not None:
                    moved.append(move)
            missed.extend(outcome.missed)

    flexible: list[Flexible] = []
    for i, store in enumerate(ordered):
        if isinstance(store.frequency, Monthly):
            visits, lost = _monthly_visits(i, store, store.frequency, horizon, last_visits.get(store.id))
            flexible.extend(visits)
            missed.extend(lost)
    failures = place_flexible(
        book,
        flexible,
        minutes=[s.visit_minutes for s in ordered],
        priorities=[s.priority for s in ordered],
        curve=hilbert_keys([s.lat for s in ordered], [s.lng for s in ordered]),
        minutes_per_day=minutes_per_day,
    )
    for visit, reason in failures:
        missed.append(_unplannable(ordered[visit.store].id, visit.due_from, visit.due_to, reason))
    return _plan(book, ordered, moved, missed, minutes_per_day)


class _Horizon:
    """The working days (sorted, unique) and the whole weeks around them, numbered from 0."""

    def __init__(self, days: list[dt.date]) -> None:
        self.days = days
        self.index = {d: i for i, d in enumerate(days)}
        self.start = days[0] - dt.timedelta(days=days[0].weekday()) if days else dt.date.min
        self.end = days[-1] + dt.timedelta(days=6 - days[-1].weekday()) if days else dt.date.min
        self.weeks = (self.end - self.start).days // 7 + 1 if days else 0

    def week_of(self, day: dt.date) -> int:
        return (day - self.start).days // 7

    def date(self, week: int, weekday: int) -> dt.date:
        return self.start + dt.timedelta(days=7 * week + weekday)

    def working_days(self, first: dt.date, last: dt.date) -> list[int]:
        """Indexes of the working days from `first` to `last` inclusive."""
        return [i for i, d in enumerate(self.days) if first <= d <= last]


def _every(store: BeatStore) -> int:
    return store.frequency.every_weeks if isinstance(store.frequency, Weekly) else 1


def _weekdays(store: BeatStore) -> list[int]:
    return sorted({WEEKDAYS.index(w) for w in store.frequency.weekdays})


def _weekly_load(store: BeatStore) -> int:
    return store.visit_minutes * len(_weekdays(store))


def _due_weeks(store: BeatStore, horizon: _Horizon, last: dt.date | None, book: DayBook) -> list[int]:
    every = _every(store)
    if last is not None:
        last_week = horizon.week_of(last)
        first = max(last_week + every, 0)  # more than N weeks since the last visit: due at once
        return [w for w in range(horizon.weeks) if w == last_week or (w >= first and (w - first) % every == 0)]
    if every == 1:
        return list(range(horizon.weeks))

    def load(phase: int) -> tuple[float, int]:
        days = [day for w in range(phase, horizon.weeks, every) for day, _ in _weekly_week(store, horizon, w).visits]
        return max((book.minutes(d) for d in days), default=0.0), phase

    # Only phases with a visit inside the horizon: the next plan, also without a last visit, would choose again.
    phase = min(range(min(every, horizon.weeks)), key=load)
    return list(range(phase, horizon.weeks, every))


class _WeekOutcome(msgspec.Struct):
    visits: list[tuple[int, Move | None]]
    missed: list[Unplannable]


def _weekly_week(store: BeatStore, horizon: _Horizon, week: int, last: dt.date | None = None) -> _WeekOutcome:
    """A weekly store's visits in one due week: on their weekdays, or moved within the week."""
    wanted = [horizon.date(week, w) for w in _weekdays(store)]
    if last is not None and horizon.week_of(last) == week:
        # The last visit counts for its weekday's slot and every earlier one (the first slot starts on Monday).
        wanted = [d for k, d in enumerate(wanted) if last < (horizon.date(week, 0) if k == 0 else d)]
    opens = {WEEKDAYS.index(w) for w in store.open_weekdays}
    fits = [d for d in wanted if d in horizon.index and d.weekday() in opens]
    used = set(fits)
    outcome = _WeekOutcome([(horizon.index[d], None) for d in fits], [])
    week_days = [horizon.days[i] for i in horizon.working_days(horizon.date(week, 0), horizon.date(week, 6))]
    for nominal in (d for d in wanted if d not in used):
        free = [d for d in week_days if d.weekday() in opens and d not in used]
        if free:
            to = min(free, key=lambda d: (abs((d - nominal).days), d))
            used.add(to)
            why: MoveReason = "not_working_day" if nominal not in horizon.index else "closed"
            outcome.visits.append((horizon.index[to], Move(store.id, nominal, to, why)))
            continue
        reason: UnplannableReason = (
            "no_working_day"
            if not week_days
            else "closed"
            if not any(d.weekday() in opens for d in week_days)
            else "no_free_day"
        )
        outcome.missed.append(_unplannable(store.id, nominal, nominal, reason))
    return outcome


@cache
def _month_parts(times: int, start: dt.date, end: dt.date) -> tuple[tuple[dt.date, dt.date], ...]:
    """The parts of each month (`times` equal ones) whose middle day lies between `start` and `end`."""
    parts = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        length = calendar.monthrange(year, month)[1]
        for k in range(times):
            first, last = 1 + k * length // times, (k + 1) * length // times
            if start <= dt.date(year, month, (first + last) // 2) <= end:
                parts.append((dt.date(year, month, first), dt.date(year, month, last)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(parts)


def _monthly_visits(
    index: int, store: BeatStore, frequency: Monthly, horizon: _Horizon, last: dt.date | None
) -> tuple[list[Flexible], list[Unplannable]]:
    gap = 28 // (2 * frequency.times)
    opens = {WEEKDAYS.index(w) for w in store.open_weekdays}
    preferred_weekdays = {WEEKDAYS.index(w) for w in frequency.weekdays}
    visits: list[Flexible] = []
    missed: list[Unplannable] = []
    for first, last_day in _month_parts(frequency.times, horizon.start, horizon.end):
        if last is not None and last >= first:
            continue
        working = horizon.working_days(first, last_day)
        open_days = [d for d in working if horizon.days[d].weekday() in opens]
        allowed = [d for d in open_days if last is None or (horizon.days[d] - last).days >= gap]
        if allowed:
            preferred = {d for d in allowed if horizon.days[d].weekday() in preferred_weekdays}
            visits.append(Flexible(index, first, last_day, allowed, preferred, gap))
            continue
        reason: UnplannableReason = "no_working_day" if not working else "closed" if not open_days else "spacing"
        missed.append(_unplannable(store.id, first, last_day, reason))
    return visits, missed


def _unplannable(store_id: str, due_from: dt.date, due_to: dt.date, reason: UnplannableReason) -> Unplannable:
    return Unplannable(store_id, due_from, due_to, reason, _DETAILS[reason])


def _plan(
    book: DayBook, stores: list[BeatStore], moved: list[Move], missed: Iterable[Unplannable], minutes_per_day: int
) -> BeatPlan:
    days = [
        BeatDay(
            date=date,
            store_ids=[stores[i].id for i in book.stores[d]],
            visit_minutes=book.visit_minutes[d],
            travel_minutes=round(book.travel_minutes[d]),
            minutes=book.visit_minutes[d] + round(book.travel_minutes[d]),
        )
        for d, date in enumerate(book.dates)
    ]
    loads = [day.minutes for day in days]
    unplannable = sorted(missed, key=lambda u: (u.due_from, u.store_id))
    summary = BeatSummary(
        visits=sum(len(day.store_ids) for day in days),
        unplannable=len(unplannable),
        min_minutes=min(loads, default=0),
        max_minutes=max(loads, default=0),
        mean_minutes=round(sum(loads) / len(loads), 1) if loads else 0.0,
        overloaded=[day.date for day in days if day.minutes > minutes_per_day],
    )
    return BeatPlan(days, sorted(moved, key=lambda m: (m.from_date, m.store_id)), unplannable, summary)
