"""Plausibility flags of a visit: pure functions over the rep's positions (no database).

A browser gives no mock-location flag, so the server judges from the data itself. Flags are recorded and shown
to supervisors; they never block the rep. Each has a code and a sentence a supervisor can act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from backend.geo import distance_m
from backend.stores.schemas import OpeningHours
from backend.visits.rules import VisitRules

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Flag(msgspec.Struct, frozen=True):
    code: str
    message: str


@dataclass(frozen=True)
class Position:
    """One fix of a rep: a check-in or a check-out of one visit."""

    visit_id: str
    store_id: str
    kind: Literal["check_in", "check_out"]
    at: dt.datetime
    lat: float
    lng: float
    accuracy_m: float


@dataclass(frozen=True)
class VisitFacts:
    visit_id: str
    store_id: str
    check_in: Position | None
    check_out: Position | None
    # When the phone's sync clock says the check-in time was written (the HLC stamp of its change).
    stamped_at: dt.datetime | None
    received_at: dt.datetime | None
    verdict: str | None
    distance_m: float | None
    min_visit_minutes: int
    opening_hours: OpeningHours | None
    time_zone: str


def flags_for(visit: VisitFacts, timeline: list[Position], rules: VisitRules) -> list[Flag]:
    """Every flag of `visit`, given all of the rep's positions around its time (`timeline`, any order)."""
    found: list[Flag] = []
    check_in, check_out = visit.check_in, visit.check_out
    if visit.verdict == "outside":
        found.append(Flag("outside_fence", f"checked in {visit.distance_m or 0:.0f} m outside the store's fence"))
    if check_in is not None:
        found += _speed(check_in, timeline, rules)
    for position in (p for p in (check_in, check_out) if p is not None):
        if position.accuracy_m == 0:
            label = position.kind.replace("_", "-")
            found.append(Flag("zero_accuracy", f"the {label} reports an accuracy of exactly 0 m, which GPS never does"))
            break
    found += _repeated(visit, timeline, rules)
    if check_in is not None:
        found += _device_time(visit, check_in, rules)
    if check_in is not None and check_out is not None:
        apart = distance_m(check_in.lat, check_in.lng, check_out.lat, check_out.lng)
        if apart > rules.checkout_distance_m:
            found.append(
                Flag(
                    "far_checkout",
                    f"checked out {apart:.0f} m from where they checked in "
                    f"(more than {rules.checkout_distance_m:.0f} m)",
                )
            )
        minutes = (check_out.at - check_in.at).total_seconds() / 60
        if visit.min_visit_minutes and minutes < visit.min_visit_minutes:
            found.append(
                Flag(
                    "short_visit",
                    f"{max(minutes, 0):.1f} min in the store; the store's minimum is {visit.min_visit_minutes} min",
                )
            )
    if check_in is not None and visit.opening_hours is not None:
        local = check_in.at.astimezone(ZoneInfo(visit.time_zone))
        if not is_open(visit.opening_hours, local):
            found.append(
                Flag("outside_opening_hours", f"checked in at {local:%a %H:%M} local time, when the store is closed")
            )
    return found


def is_open(hours: OpeningHours, local: dt.datetime) -> bool:
    """Whether the store is open at this local time ("24:00" closes at midnight)."""
    hhmm = f"{local:%H:%M}"
    return any(i.opens <= hhmm < i.closes for i in hours.get(WEEKDAYS[local.weekday()], []))  # type: ignore[call-overload]


def _speed(check_in: Position, timeline: list[Position], rules: VisitRules) -> list[Flag]:
    """The implied speed from the rep's previous position (of another visit) to this check-in."""
    earlier = [p for p in timeline if p.visit_id != check_in.visit_id and p.at <= check_in.at]
    if not earlier:
        return []
    previous = max(earlier, key=lambda p: (p.at, p.kind == "check_out"))
    # Give the benefit of the doubt: both fixes may be off by their accuracy.
    metres = distance_m(previous.lat, previous.lng, check_in.lat, check_in.lng)
    slack = max(metres - previous.accuracy_m - check_in.accuracy_m, 0.0)
    seconds = (check_in.at - previous.at).total_seconds()
    if slack == 0:
        return []
    kmh = float("inf") if seconds <= 0 else slack / seconds * 3.6
    if kmh <= rules.max_speed_kmh:
        return []
    took = f"{seconds / 60:.0f} min" if seconds > 0 else "no time"
    return [
        Flag(
            "implausible_speed",
            f"{metres / 1000:.1f} km from the previous position in {took}: "
            + (f"{kmh:.0f} km/h" if kmh != float("inf") else "no time to travel")
            + f", above {rules.max_speed_kmh:.0f} km/h",
        )
    ]


def _repeated(visit: VisitFacts, timeline: list[Position], rules: VisitRules) -> list[Flag]:
    """Identical coordinates to 6 decimals at another store, or at times far apart: real fixes always jitter."""
    window = dt.timedelta(hours=rules.same_place_hours)
    mine = [p for p in timeline if p.visit_id == visit.visit_id]
    keys = {(round(p.lat, 6), round(p.lng, 6)) for p in mine}
    others = [p for p in timeline if p.visit_id != visit.visit_id and (round(p.lat, 6), round(p.lng, 6)) in keys]
    for position in mine:
        key = (round(position.lat, 6), round(position.lng, 6))
        for other in others:
            if (round(other.lat, 6), round(other.lng, 6)) != key:
                continue
            if other.store_id != visit.store_id or abs(other.at - position.at) > window:
                where = "another store" if other.store_id != visit.store_id else "a visit long before or after"
                return [
                    Flag(
                        "repeated_coordinates",
                        f"the same coordinates to the sixth decimal as at {where} ({other.at:%Y-%m-%d %H:%M} UTC)",
                    )
                ]
    return []


def _device_time(visit: VisitFacts, check_in: Position, rules: VisitRules) -> list[Flag]:
    """The phone's clock against its sync clock and against arrival, after allowing for the time offline."""
    bound = dt.timedelta(minutes=rules.device_time_minutes)
    if visit.stamped_at is not None and check_in.at < visit.stamped_at - bound:
        behind = (visit.stamped_at - check_in.at).total_seconds() / 60
        return [
            Flag(
                "device_time",
                f"the check-in time is {behind:.0f} min behind the phone's sync clock: was the phone's clock set back?",
            )
        ]
    if visit.received_at is not None and check_in.at > visit.received_at + bound:
        ahead = (check_in.at - visit.received_at).total_seconds() / 60
        return [Flag("device_time", f"the check-in time is {ahead:.0f} min after the server received it")]
    return []
