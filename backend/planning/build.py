"""From the database to the planner's inputs: whose day it is, their working days, the stores due, each store's
opening hours on a date as time windows, and the rep's day as a vehicle (backend/planning/problem.py).

Times in a Problem are seconds from local midnight of the day planned, in the rep's time zone (the
organisation's when the rep has none); `at_local` turns them back into instants.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Max

from backend.auth.principal import Principal
from backend.db import json_value
from backend.errors import NotFound
from backend.orgs.tables import Organization, User
from backend.orgs.teams import team_rep_ids
from backend.planning.beat import BeatStore, open_weekdays
from backend.planning.problem import Break, Job, Vehicle, Window
from backend.planning.rules import PlanningRules, seconds_of
from backend.stores.schemas import WEEKDAYS, OpeningHours, VisitFrequency
from backend.stores.tables import Store
from backend.visits.tables import Visit

DAY_S = 86_400


@dataclass(frozen=True)
class Rep:
    id: uuid.UUID
    name: str
    time_zone: str
    home: tuple[float, float] | None  # (lat, lng)


@dataclass(frozen=True)
class PlanStore:
    id: uuid.UUID
    name: str
    lat: float
    lng: float
    opening_hours: OpeningHours | None
    visit_minutes: int
    priority: int
    frequency: VisitFrequency | None

    def beat(self) -> BeatStore | None:
        if self.frequency is None:
            return None
        return BeatStore(
            id=str(self.id),
            lat=self.lat,
            lng=self.lng,
            frequency=self.frequency,
            open_weekdays=open_weekdays(self.opening_hours),
            visit_minutes=self.visit_minutes,
            priority=self.priority,
        )


async def reps(principal: Principal, rep_ids: Iterable[uuid.UUID]) -> list[Rep]:
    """These reps, if the caller plans for them (themselves for a rep, the team for a supervisor, anyone in the
    organisation for an admin); another's rep is a 404, as if it did not exist."""
    wanted = list(dict.fromkeys(rep_ids))
    allowed = set(await team_rep_ids(principal))
    for rep_id in wanted:
        if rep_id not in allowed:
            raise NotFound("No such rep in your team", code="planning.no_such_rep")
    org = await Organization.select(Organization.time_zone).where(Organization.id == principal.org_id).first().run()
    zone = org["time_zone"] if org else "UTC"
    rows = await (
        User.select(User.id, User.name, User.time_zone, User.home_lat, User.home_lng)
        .where((User.org_id == principal.org_id) & User.id.is_in(wanted or [uuid.UUID(int=0)]))
        .run()
    )
    by_id = {
        r["id"]: Rep(
            r["id"],
            r["name"],
            r["time_zone"] or zone,
            (r["home_lat"], r["home_lng"]) if r["home_lat"] is not None and r["home_lng"] is not None else None,
        )
        for r in rows
    }
    return [by_id[rep_id] for rep_id in wanted]


def _store(row: dict[str, Any]) -> PlanStore:
    hours = json_value(row["opening_hours"])
    frequency = json_value(row["visit_frequency"])
    return PlanStore(
        id=row["id"],
        name=row["name"],
        lat=row["lat"],
        lng=row["lng"],
        opening_hours=None if hours is None else msgspec.convert(hours, OpeningHours),
        visit_minutes=int(row["visit_minutes"]),
        priority=int(row["priority"]),
        frequency=None if frequency is None else msgspec.convert(frequency, VisitFrequency),
    )


_COLUMNS = (
    Store.id,
    Store.name,
    Store.lat,
    Store.lng,
    Store.opening_hours,
    Store.visit_minutes,
    Store.priority,
    Store.visit_frequency,
)


async def assigned_stores(org_id: uuid.UUID, rep_id: uuid.UUID) -> list[PlanStore]:
    """The active stores assigned to the rep: their beat."""
    rows = await (
        Store.select(*_COLUMNS)
        .where((Store.org_id == org_id) & (Store.assigned_rep_id == rep_id) & (Store.active == True))  # noqa: E712
        .run()
    )
    return [_store(r) for r in rows]


async def stores_by_id(
    org_id: uuid.UUID, ids: Iterable[uuid.UUID], visible: Combinable | None = None, field: str = "store_ids"
) -> list[PlanStore]:
    """These stores of the organisation, in the order given; an unknown id is a 404 naming it. `visible`: the
    caller's store scope (`stores.services.visible_stores`) for ids the caller gave: another rep's store is
    as unknown to a rep as another organisation's."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    condition = (Store.org_id == org_id) & Store.id.is_in(wanted)
    rows = await Store.select(*_COLUMNS).where(condition if visible is None else condition & visible).run()
    found = {r["id"]: _store(r) for r in rows}
    for store_id in wanted:
        if store_id not in found:
            raise NotFound(f"{field}: no store {store_id}", code="planning.no_such_store")
    return [found[s] for s in wanted]


async def last_visits(org_id: uuid.UUID, store_ids: Sequence[uuid.UUID], zone: str) -> dict[str, dt.date]:
    """Each store's latest visit (anyone's check-in), as a local date: when it is next due depends on it."""
    if not store_ids:
        return {}
    rows = await (
        Visit.select(Visit.store_id, Max(Visit.check_in_at).as_alias("last"))
        .where((Visit.org_id == org_id) & Visit.store_id.is_in(list(store_ids)) & Visit.check_in_at.is_not_null())
        .group_by(Visit.store_id)
        .run()
    )
    return {
        str(r["store_id"]): _instant(r["last"]).astimezone(ZoneInfo(zone)).date() for r in rows if r["last"] is not None
    }


def _instant(value: Any) -> dt.datetime:
    """MAX() over a timestamp column: a datetime on PostgreSQL, text on SQLite."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def working_days(
    rules: PlanningRules, first: dt.date, last: dt.date, days_off: Iterable[dt.date] = ()
) -> list[dt.date]:
    """The organisation's working weekdays from `first` to `last`, without holidays and the rep's days off."""
    skip = set(rules.holidays) | set(days_off)
    weekdays = set(rules.working_weekdays)
    days, day = [], first
    while day <= last:
        if WEEKDAYS[day.weekday()] in weekdays and day not in skip:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def windows_on(hours: OpeningHours | None, day: dt.date, service_s: int) -> list[Window] | None:
    """When a visit may begin on `day`: each opening interval shortened by the visit's length, so the rep does
    not arrive as it closes. None: hours unknown (any time). []: closed that day, or never open long enough."""
    if hours is None:
        return None
    windows = []
    for interval in hours.get(WEEKDAYS[day.weekday()], []):
        opens, closes = seconds_of(interval.opens), seconds_of(interval.closes) - service_s
        if closes >= opens:
            windows.append(Window(opens, closes))
    return windows


def job_for(store: PlanStore, day: dt.date, location: int) -> Job:
    service = store.visit_minutes * 60
    return Job(
        id=str(store.id),
        location=location,
        service_s=service,
        windows=windows_on(store.opening_hours, day, service),
        priority=store.priority,
    )


def vehicle_for(
    rep: Rep, rules: PlanningRules, start: int, end: int | None, *, from_s: int | None = None, lunch_taken: bool = False
) -> Vehicle:
    """The rep's working day from the rules; from `from_s` (a re-plan: now) when given. A lunch break that can
    no longer start in time, or was taken, is left out."""
    shift_start, shift_end = rules.shift_s
    if from_s is not None:
        shift_start = min(max(shift_start, from_s), shift_end)
    breaks = []
    lunch = rules.lunch_s()
    if lunch is not None and not lunch_taken:
        earliest, latest, duration = lunch
        earliest = max(earliest, shift_start)
        if earliest <= latest and earliest + duration <= shift_end:
            breaks.append(Break(id="lunch", windows=[Window(earliest, latest)], service_s=duration))
    return Vehicle(id=str(rep.id), start=start, end=end, shift=Window(shift_start, shift_end), breaks=breaks)


def local_seconds(instant: dt.datetime, day: dt.date, zone: str) -> int:
    """An instant as seconds from local midnight of `day` (clamped to the day)."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))
    return max(0, min(DAY_S, int((instant - midnight).total_seconds())))


def at_local(day: dt.date, seconds: int, zone: str) -> dt.datetime:
    """Seconds from local midnight of `day` as a UTC instant (wall-clock time: a rep's day never spans a DST
    change, which happens at night)."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)) + dt.timedelta(seconds=seconds)
    return local.astimezone(dt.UTC)
