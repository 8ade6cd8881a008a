"""Two weeks of past visits: each rep's working days, in geographic order, inside the stores' opening hours.

Times are planned in the organisation's zone and stored in UTC. The check-in positions are mostly good fixes near
the store, with a few bad ones, and the verdicts are derived from them the way the server judges a check-in.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend.demo.places import approx_distance_m, shift
from backend.demo.stores import WEEK, DemoStore
from backend.demo.team import Member, Team
from backend.geo import distance_m, polygon_offset_m
from backend.stores.schemas import CircleFence, StoreCreate, Weekly
from backend.tables_base import new_id
from backend.visits.tables import Visit

HISTORY_DAYS = 14
POOR_ACCURACY_M = 100.0
MAX_WAIT = dt.timedelta(minutes=60)
LAST_START = dt.time(19, 30)
MIN_VISITS, MAX_VISITS = 8, 14

ORDER_VALUE_FEN = {
    "hypermarket": (100_000, 500_000),
    "wholesale": (150_000, 500_000),
    "supermarket": (50_000, 200_000),
    "convenience": (20_000, 60_000),
    "traditional": (20_000, 50_000),
    "pharmacy": (20_000, 40_000),
    "horeca": (20_000, 80_000),
}
OUTCOMES = (("order_taken", 45), ("no_order", 38), ("manager_absent", 8), ("other", 6), ("store_closed", 3))
NOTES = {
    "order_taken": (
        "Order taken for Tuesday delivery.",
        "Manager ordered two extra cases of Golden Harvest for the weekend.",
        "Restocked noodles; order placed, asked for new shelf strips.",
        "Order taken; wants a cooler sticker by the till.",
        "",
    ),
    "no_order": (
        "Stock still sufficient from last delivery.",
        "Buyer orders through head office this week.",
        "Tidied the shelf and fixed price tags, no order needed.",
        "",
    ),
    "manager_absent": ("Manager off today; left the promo leaflet with the cashier.", "Only part-time staff on shift."),
    "other": (
        "Helped set up the end-cap display.",
        "Collected expired yogurt for a credit note.",
        "Updated price tags after the promotion ended.",
    ),
    "store_closed": ("Shutters down, sign says closed for stocktaking.", "Closed for renovation until next week."),
}
SKIP_REASONS = (
    "Ran out of time",
    "Store under renovation",
    "Manager asked to come another day",
    "Heavy rain, road flooded",
    "Traffic jam on the elevated road",
)


def history_days(today: dt.date) -> list[dt.date]:
    """The working days (Monday to Saturday) among the `HISTORY_DAYS` days before `today`, oldest first."""
    days = (today - dt.timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1))
    return [day for day in days if day.weekday() < 6]


def judge_position(store: StoreCreate, lat: float, lng: float, accuracy_m: float) -> tuple[str, float, list[Any]]:
    """The verdict on a check-in fix, its distance from the store in metres, and plausibility flags.

    Inside when the fix lies in the fence; outside when it lies beyond the fence by more than its accuracy;
    uncertain in between, and whenever the accuracy is worse than `POOR_ACCURACY_M`.
    """
    distance = distance_m(store.lat, store.lng, lat, lng)
    fence = store.geofence
    beyond = (
        max(0.0, distance - fence.radius_m)
        if isinstance(fence, CircleFence)
        else polygon_offset_m(fence.polygon, lat, lng)
    )
    flags: list[Any] = []
    if accuracy_m > POOR_ACCURACY_M:
        message = f"Location accuracy was {accuracy_m:.0f} m; the geofence could not be checked reliably."
        flags.append({"code": "gps.accuracy_poor", "message": message})
        verdict = "uncertain"
    elif beyond == 0:
        verdict = "inside"
    else:
        verdict = "outside" if beyond > accuracy_m else "uncertain"
    return verdict, round(distance, 1), flags


def _fix_near(rng: random.Random, store: StoreCreate) -> tuple[float, float, float]:
    """Where the phone put the rep at check-in: (lat, lng, accuracy in metres)."""
    luck = rng.random()
    if luck < 0.04:  # checked in from across the road, or from the previous store
        reach = store.geofence.radius_m if isinstance(store.geofence, CircleFence) else 80.0
        distance, accuracy = reach + rng.uniform(40, 250), rng.uniform(5, 30)
    elif luck < 0.07:  # indoors, between tall buildings
        distance, accuracy = rng.uniform(10, 120), rng.uniform(150, 400)
    else:
        distance, accuracy = min(abs(rng.gauss(0, 12)), 30.0), 5 + 35 * rng.random() ** 2
    bearing = rng.uniform(0, 2 * math.pi)
    lat, lng = shift(store.lat, store.lng, distance * math.sin(bearing), distance * math.cos(bearing))
    return round(lat, 6), round(lng, 6), round(accuracy, 1)


def _local(day: dt.date, hhmm: str, zone: ZoneInfo) -> dt.datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=hours, minutes=minutes)


def _start_within_hours(
    store: StoreCreate, day: dt.date, zone: ZoneInfo, arrive: dt.datetime, minutes: int
) -> dt.datetime | None:
    """The earliest start at or after `arrive` (waiting at most `MAX_WAIT`) at which the whole visit fits an opening."""
    for interval in sorted((store.opening_hours or {}).get(WEEK[day.weekday()], []), key=lambda i: i.opens):
        start = max(arrive, _local(day, interval.opens, zone))
        if start - arrive <= MAX_WAIT and start + dt.timedelta(minutes=minutes) <= _local(day, interval.closes, zone):
            return start
    return None


def _is_due(store: StoreCreate, day: dt.date) -> bool:
    frequency = store.visit_frequency
    if not isinstance(frequency, Weekly) or WEEK[day.weekday()] not in frequency.weekdays:
        return False
    return day.isocalendar().week % frequency.every_weeks == 0


def _closes_early(store: StoreCreate, day: dt.date) -> bool:
    intervals = (store.opening_hours or {}).get(WEEK[day.weekday()], [])
    return bool(intervals) and max(i.closes for i in intervals) <= "15:00"


def _route(stores: list[DemoStore], start: tuple[float, float], day: dt.date) -> list[DemoStore]:
    """Nearest neighbour from home; stores that close early in the day go first."""
    left, here, route = list(stores), start, []
    while left:
        nearest = min(left, key=lambda s: approx_distance_m(*here, s.data.lat, s.data.lng))
        left.remove(nearest)
        route.append(nearest)
        here = (nearest.data.lat, nearest.data.lng)
    return sorted(route, key=lambda s: not _closes_early(s.data, day))


@dataclass(frozen=True)
class _Day:
    """One rep's working day, and the columns every visit row of that day shares."""

    org_id: uuid.UUID
    rep: Member
    day: dt.date
    zone: ZoneInfo

    def base(self, store: DemoStore, planned: bool) -> dict[str, Any]:
        return {
            "id": new_id(),
            "org_id": self.org_id,
            "rep_id": self.rep.user_id,
            "store_id": store.id,
            "planned": planned,
            "planned_date": self.day if planned else None,
        }


def _visit(rng: random.Random, day: _Day, store: DemoStore, planned: bool, start: dt.datetime, minutes: int) -> Visit:
    data = store.data
    check_in = start.astimezone(dt.UTC) + dt.timedelta(seconds=rng.randint(0, 59))
    check_out = check_in + dt.timedelta(minutes=minutes)
    lat, lng, accuracy = _fix_near(rng, data)
    verdict, distance, flags = judge_position(data, lat, lng, accuracy)
    out_lat, out_lng = shift(lat, lng, rng.uniform(-8, 8), rng.uniform(-8, 8))
    outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
    order_value = rng.randrange(*ORDER_VALUE_FEN[data.channel], 100) if outcome == "order_taken" else None
    return Visit(
        **day.base(store, planned),
        state="checked_out",
        check_in_at=check_in,
        check_in_lat=lat,
        check_in_lng=lng,
        check_in_accuracy_m=accuracy,
        check_out_at=check_out,
        check_out_lat=round(out_lat, 6),
        check_out_lng=round(out_lng, 6),
        check_out_accuracy_m=round(rng.uniform(5, 30), 1),
        verdict=verdict,
        verdict_distance_m=distance,
        flags=msgspec.json.encode(flags).decode(),
        outcome=outcome,
        notes=rng.choice(NOTES[outcome]),
        order_value_minor=order_value,
        created_at=check_in,
        updated_at=check_out,
    )


def _not_done(rng: random.Random, day: _Day, store: DemoStore, state: str) -> Visit:
    evening = dt.datetime.combine(day.day, dt.time(18, 30), tzinfo=day.zone).astimezone(dt.UTC)
    return Visit(
        **day.base(store, True),
        state=state,
        flags="[]",
        skip_reason=rng.choice(SKIP_REASONS) if state == "skipped" else None,
        created_at=evening,
        updated_at=evening,
    )


def _rep_day(
    rng: random.Random, day: _Day, stores: list[DemoStore], last_seen: dict[uuid.UUID, dt.date]
) -> list[Visit]:
    weekday = WEEK[day.day.weekday()]
    open_today = [s for s in stores if weekday in (s.data.opening_hours or {})]
    due = sorted((s for s in open_today if _is_due(s.data, day.day)), key=lambda s: -s.data.priority)
    others = [s for s in open_today if not _is_due(s.data, day.day)]
    rng.shuffle(others)
    others.sort(key=lambda s: last_seen.get(s.id, dt.date.min))  # stable: least recently seen first
    candidates = due + others
    target = rng.randint(MIN_VISITS, MAX_VISITS)
    planned, spare = candidates[:target], candidates[target:]
    rows: list[Visit] = []
    for state, chance in (("skipped", 0.3), ("missed", 0.08)):
        if len(planned) > MIN_VISITS and rng.random() < chance:
            store = planned.pop(rng.randrange(len(planned)))
            rows.append(_not_done(rng, day, store, state))
    home_lat, home_lng = day.rep.home_lat, day.rep.home_lng
    if home_lat is None or home_lng is None:
        raise ValueError(f"demo rep {day.rep.email} has no home to start the day from")
    home = (home_lat, home_lng)
    queue = [(store, True) for store in _route(planned, home, day.day)]
    if len(queue) < MAX_VISITS and spare and rng.random() < 0.3:
        # A drop-in on the way: an unplanned visit somewhere along the route.
        queue.insert(rng.randrange(len(queue) + 1), (spare.pop(rng.randrange(len(spare))), False))
    clock = dt.datetime.combine(day.day, dt.time(8, 30), tzinfo=day.zone) + dt.timedelta(minutes=rng.randint(0, 40))
    here, done = home, 0
    while queue or (done < MIN_VISITS and spare):
        if queue:
            store, is_planned = queue.pop(0)
        else:  # short of the day's quota: drop in at the nearest store not planned today
            store = min(spare, key=lambda s: approx_distance_m(*here, s.data.lat, s.data.lng))
            spare.remove(store)
            is_planned = False
        travel_km = approx_distance_m(*here, store.data.lat, store.data.lng) / 1000
        arrive = clock + dt.timedelta(minutes=round(4 + 3.5 * travel_km + rng.uniform(0, 5)))
        minutes = max(15, min(60, store.data.visit_minutes + rng.randint(-5, 10)))
        # One spare minute: the check-in lands up to 59 s after the start.
        start = _start_within_hours(store.data, day.day, day.zone, arrive, minutes + 1)
        if start is None or start.time() > LAST_START:
            continue
        rows.append(_visit(rng, day, store, is_planned, start, minutes))
        last_seen[store.id] = day.day
        clock, here, done = start + dt.timedelta(minutes=minutes), (store.data.lat, store.data.lng), done + 1
    return rows


def plan_history(
    rng: random.Random, *, org_id: uuid.UUID, team: Team, stores: Sequence[DemoStore], today: dt.date, zone: ZoneInfo
) -> list[Visit]:
    """Visit rows for every rep on every working day of the two weeks before `today`; nothing on or after it."""
    rows: list[Visit] = []
    for rep in team.reps:
        own = sorted((s for s in stores if s.data.assigned_rep_id == rep.user_id), key=lambda s: s.data.code)
        last_seen: dict[uuid.UUID, dt.date] = {}
        for day in history_days(today):
            rows.extend(_rep_day(rng, _Day(org_id=org_id, rep=rep, day=day, zone=zone), own, last_seen))
    return rows
