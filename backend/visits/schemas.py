"""Wire types of the visits API: the supervisor's day, live positions and reports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from backend.visits.flags import Flag


class Fixed(msgspec.Struct):
    """A check-in or check-out as the phone recorded it, with the server's fence verdict."""

    at: dt.datetime
    lat: float
    lng: float
    accuracy_m: float | None
    verdict: str | None
    distance_m: float | None
    fix_age_s: float | None


class PhotoRef(msgspec.Struct):
    """A photo of the visit: where and when it was taken, and where to fetch it once uploaded."""

    sha256: str
    taken_at: dt.datetime | None
    lat: float | None
    lng: float | None
    uploaded: bool
    url: str


class VisitSummary(msgspec.Struct):
    id: uuid.UUID
    store_id: uuid.UUID
    store_name: str
    store_lat: float
    store_lng: float
    state: str
    planned: bool
    check_in: Fixed | None
    check_out: Fixed | None
    minutes_in_store: float | None
    flags: list[Flag]
    outcome: str | None
    order_value_minor: int | None
    notes: str
    next_steps: str
    skip_reason: str | None
    received_at: dt.datetime | None
    photos: list[PhotoRef] = msgspec.field(default_factory=list)


class PlannedStop(msgspec.Struct):
    seq: int
    store_id: uuid.UUID
    store_name: str
    lat: float
    lng: float
    arrive_at: dt.datetime | None
    visit_id: uuid.UUID | None
    state: str


class DayTotals(msgspec.Struct):
    planned: int = 0
    done: int = 0
    missed: int = 0
    skipped: int = 0
    unplanned: int = 0
    flagged: int = 0
    minutes_in_stores: float = 0.0
    distance_km: float = 0.0


class RepDay(msgspec.Struct):
    rep_id: uuid.UUID
    rep_name: str
    planned: list[PlannedStop]
    visits: list[VisitSummary]
    totals: DayTotals


class TeamDay(msgspec.Struct):
    date: dt.date
    reps: list[RepDay]
    totals: DayTotals


class LivePosition(msgspec.Struct):
    rep_id: uuid.UUID
    rep_name: str
    lat: float | None
    lng: float | None
    accuracy_m: float | None
    at: dt.datetime | None
    # The visit in progress (checked in, not out), else the last one.
    visit: VisitSummary | None
    in_store: bool


class ReportRow(msgspec.Struct):
    date: dt.date
    rep_id: uuid.UUID
    rep_name: str
    planned: int
    done: int
    done_as_planned: int
    missed: int
    skipped: int
    unplanned: int
    flagged: int
    compliance_pct: float | None
    avg_minutes_in_store: float | None
    outcomes: dict[str, int]


class VisitReport(msgspec.Struct):
    date_from: dt.date
    date_to: dt.date
    rows: list[ReportRow]


GeoJSON = dict[str, Any]
