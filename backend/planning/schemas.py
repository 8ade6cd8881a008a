"""Wire types of the planning API (docs/api.md, Planning)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from backend.fields import Latitude, Longitude, day_problem
from backend.planning.beat import BeatSummary, Move, Unplannable
from backend.planning.problem import UnassignedReason
from backend.stores.schemas import HHMM

SolverName = Literal["auto", "pyvrp", "vroom", "best"]
StoreIds = Annotated[list[uuid.UUID], Meta(max_length=500)]


def _check_day(field: str, day: dt.date) -> None:
    problem = day_problem(day)
    if problem:
        raise ValueError(f"{field}: {problem}")


class Position(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Latitude
    lng: Longitude


class DayRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    rep_id: uuid.UUID
    date: dt.date
    # Where the day starts: the rep's home by default. It ends at home when the rep has one, else at the last visit.
    start: Position | None = None
    start_time: HHMM | None = None  # the organisation's day_start by default
    # Stores to plan besides those due (and those already planned for the day).
    store_ids: StoreIds = msgspec.field(default_factory=list)
    solver: SolverName = "auto"

    def __post_init__(self) -> None:
        _check_day("date", self.date)


class ReplanRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    rep_id: uuid.UUID
    date: dt.date
    position: Position
    at: dt.datetime  # now, on the phone: nothing is planned before it

    def __post_init__(self) -> None:
        _check_day("date", self.date)
        if self.at.tzinfo is None:
            raise ValueError("at: give a time zone offset, e.g. 2026-11-23T10:15:00+08:00")


class WeekRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    rep_id: uuid.UUID
    start: dt.date
    days: Annotated[int, Meta(ge=1, le=28)] = 7  # calendar days from `start`
    days_off: Annotated[list[dt.date], Meta(max_length=28)] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_day("start", self.start)
        for day in self.days_off:
            _check_day("days_off", day)


class TeamRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    date: dt.date
    rep_ids: Annotated[list[uuid.UUID], Meta(min_length=1, max_length=50)]
    # The stores to share out; by default every store due that day among the reps' beats.
    store_ids: StoreIds = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_day("date", self.date)


class PlannedStop(msgspec.Struct, frozen=True):
    seq: int
    store_id: uuid.UUID
    store_name: str
    lat: float
    lng: float
    visit_id: uuid.UUID | None
    arrive_at: dt.datetime
    begin_at: dt.datetime  # after waiting for the store to open
    depart_at: dt.datetime
    travel_minutes: float
    travel_km: float


class PlannedBreak(msgspec.Struct, frozen=True):
    begin_at: dt.datetime
    end_at: dt.datetime


class UnplannedStore(msgspec.Struct, frozen=True):
    store_id: uuid.UUID
    store_name: str
    reason: UnassignedReason
    detail: str


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    rep_id: uuid.UUID
    date: dt.date
    status: str
    start: Position | None
    stops: list[PlannedStop]
    breaks: list[PlannedBreak]
    unassigned: list[UnplannedStore]
    total_travel_minutes: float
    total_km: float
    solver: str
    solve_ms: float
    travel_source: str
    warning: str | None


class WeekPlan(msgspec.Struct, frozen=True):
    plans: list[Plan]
    beat: BeatSummary
    moved: list[Move]
    unplannable: list[Unplannable]


class TeamPlan(msgspec.Struct, frozen=True):
    plans: list[Plan]
    unassigned: list[UnplannedStore]
