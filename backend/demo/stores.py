"""Three hundred demo stores: real neighbourhoods and chains, hours and fences by channel, one rep each.

Everything is drawn from the caller's `random.Random`, so one seed always plans the same stores. Each store is
validated the way the API validates one (`msgspec.convert` to `StoreCreate`, then `check_shape`).
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from typing import Any

import msgspec

from backend.demo.places import Places, approx_distance_m, random_point_near, shift
from backend.demo.team import Member, Team
from backend.stores.schemas import WEEKDAYS, StoreCreate
from backend.stores.services import check_shape
from backend.tables_base import new_id

# (channel, chain, how many): the mix of a Shanghai route, convenience-heavy like the city itself.
STORE_MIX: tuple[tuple[str, str | None, int], ...] = (
    ("convenience", "FamilyMart", 35),
    ("convenience", "Lawson", 25),
    ("convenience", "7-Eleven", 20),
    ("convenience", "Alldays", 22),
    ("convenience", "Kedi", 18),
    ("convenience", "Quik", 15),
    ("supermarket", "Lianhua", 18),
    ("supermarket", "Hema Fresh", 12),
    ("supermarket", "CR Vanguard", 12),
    ("supermarket", "City'super", 4),
    ("supermarket", "Ole'", 8),
    ("hypermarket", "Carrefour", 5),
    ("hypermarket", "RT-Mart", 4),
    ("hypermarket", "Walmart", 5),
    ("wholesale", "Metro", 3),
    ("pharmacy", "LBX Pharmacy", 12),
    ("traditional", None, 68),
    ("horeca", None, 14),
)

SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Zhu", "Lin")
TRADITIONAL_NAMES = (
    "{s}'s Grocery",
    "Lao {s} General Store",
    "{s} Family Mini Mart",
    "Xiao {s} Convenience",
    "{s} Tobacco & Liquor",
    "{s} Fruit & Grocery",
)
HORECA_NAMES = ("Lao {s} Noodle House", "{s} Family Wonton", "Ah {s}'s Dumplings", "{s} Tea House", "{s} Bistro")

WEEK = WEEKDAYS
WORKING_DAYS = WEEK[:6]
# Key accounts are seen twice a week, on days far enough apart for the shelf to have moved.
TWICE_WEEKLY = (("mon", "thu"), ("tue", "fri"), ("wed", "sat"))

VISIT_MINUTES = {
    "hypermarket": (45, 60),
    "wholesale": (45, 60),
    "supermarket": (30, 45),
    "convenience": (15, 25),
    "traditional": (15, 30),
    "pharmacy": (15, 20),
    "horeca": (20, 30),
}
PRIORITY = {
    "hypermarket": (5, 5),
    "wholesale": (5, 5),
    "supermarket": (3, 4),
    "convenience": (2, 3),
    "traditional": (1, 3),
    "pharmacy": (1, 2),
    "horeca": (2, 3),
}
# (circle radius range, polygon width x height) in metres; the big boxes have car parks around them.
FENCE_SIZE = {
    "hypermarket": ((200, 300), (240, 180)),
    "wholesale": ((200, 300), (260, 200)),
    "supermarket": ((80, 150), (120, 90)),
}
SMALL_FENCE = ((50, 80), (80, 60))
POLYGON_SHARE = 0.10


class DemoStore(msgspec.Struct, frozen=True):
    id: uuid.UUID
    data: StoreCreate


def _every_day(*intervals: tuple[str, str], days: tuple[str, ...] = WEEK) -> dict[str, list[list[str]]]:
    return {day: [list(i) for i in intervals] for day in days}


def _opening_hours(rng: random.Random, channel: str) -> dict[str, list[list[str]]]:
    """Realistic hours by channel, in the store's local time."""
    if channel == "convenience":
        return _every_day(("00:00", "24:00")) if rng.random() < 0.7 else _every_day(("07:00", "23:00"))
    if channel == "supermarket":
        return _every_day(("07:00", "22:00"))
    if channel == "hypermarket":
        return _every_day(("08:00", "22:00"))
    if channel == "wholesale":
        return _every_day(("06:00", "14:00"), days=WORKING_DAYS)
    if channel == "pharmacy":
        return _every_day(("08:30", "21:00"))
    if channel == "horeca":
        return _every_day(("10:30", "14:00"), ("17:00", "22:00"))
    # Family-run shops close for lunch, and a third of them rest on Sunday.
    days = WORKING_DAYS if rng.random() < 0.33 else WEEK
    return _every_day(("07:30", "12:00"), ("13:30", "20:00"), days=days)


def _rectangle_fence(rng: random.Random, lat: float, lng: float, width_m: float, height_m: float) -> dict[str, Any]:
    """An axis-aligned box of about `width_m` x `height_m` that contains the store, not always centred on it."""
    width, height = width_m * rng.uniform(0.9, 1.1), height_m * rng.uniform(0.9, 1.1)
    centre_lat, centre_lng = shift(lat, lng, rng.uniform(-0.25, 0.25) * width, rng.uniform(-0.25, 0.25) * height)
    south, west = shift(centre_lat, centre_lng, -width / 2, -height / 2)
    north, east = shift(centre_lat, centre_lng, width / 2, height / 2)
    # Counter-clockwise exterior ring, as RFC 7946 asks.
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "kind": "polygon",
        "polygon": {"type": "Polygon", "coordinates": [[[round(x, 7) for x in p] for p in ring]]},
    }


def _geofence(rng: random.Random, channel: str, lat: float, lng: float) -> dict[str, Any]:
    (low, high), (width, height) = FENCE_SIZE.get(channel, SMALL_FENCE)
    if rng.random() < POLYGON_SHARE:
        return _rectangle_fence(rng, lat, lng, width, height)
    return {"kind": "circle", "radius_m": float(rng.randrange(low, high + 1, 10))}


def _visit_frequency(rng: random.Random, channel: str, priority: int) -> dict[str, Any]:
    if priority == 5:
        return {"kind": "weekly", "weekdays": list(rng.choice(TWICE_WEEKLY)), "every_weeks": 1}
    day = rng.choice(WORKING_DAYS)
    if channel == "supermarket" or (channel == "convenience" and rng.random() < 0.4):
        return {"kind": "weekly", "weekdays": [day], "every_weeks": 1}
    if channel in ("convenience", "traditional") and rng.random() < 0.6:
        return {"kind": "weekly", "weekdays": [day], "every_weeks": 2}
    return {"kind": "monthly", "times": rng.choice((1, 2)), "weekdays": []}


def _name(rng: random.Random, channel: str, chain: str | None, street: str, number: int) -> str:
    if chain:
        return f"{chain} {street} {number}"
    templates = HORECA_NAMES if channel == "horeca" else TRADITIONAL_NAMES
    return rng.choice(templates).format(s=rng.choice(SURNAMES))


def _store_fields(
    rng: random.Random, places: Places, channel: str, chain: str | None, hood_index: int
) -> dict[str, Any]:
    hood = places.neighbourhoods[hood_index]
    lat, lng = random_point_near(rng, hood.lat, hood.lng, hood.radius_m)
    lat, lng = round(lat, 6), round(lng, 6)
    street, number = rng.choice(hood.streets), rng.randint(2, 1500)
    priority = rng.randint(*PRIORITY[channel])
    low, high = VISIT_MINUTES[channel]
    return {
        "name": _name(rng, channel, chain, street, number),
        "channel": channel,
        "chain": chain,
        "lat": lat,
        "lng": lng,
        "address": f"{number} {street}",
        "district": hood.district,
        "city": places.city,
        "postcode": rng.choice(hood.postcodes),
        "country": places.country,
        "geofence": _geofence(rng, channel, lat, lng),
        "opening_hours": _opening_hours(rng, channel),
        "visit_frequency": _visit_frequency(rng, channel, priority),
        "visit_minutes": rng.randrange(low, high + 1, 5),
        "priority": priority,
    }


def _split_among_reps(stores: list[dict[str, Any]], reps: list[Member]) -> dict[int, Member]:
    """Give each rep a compact, equal share: pie slices around the stores' centre, matched to the nearest homes."""
    centre_lat = sum(s["lat"] for s in stores) / len(stores)
    centre_lng = sum(s["lng"] for s in stores) / len(stores)
    order = sorted(
        range(len(stores)), key=lambda i: math.atan2(stores[i]["lat"] - centre_lat, stores[i]["lng"] - centre_lng)
    )
    slices = [order[k * len(order) // len(reps) : (k + 1) * len(order) // len(reps)] for k in range(len(reps))]
    middles = [
        (sum(stores[i]["lat"] for i in part) / len(part), sum(stores[i]["lng"] for i in part) / len(part))
        for part in slices
    ]

    def commute(permutation: tuple[int, ...]) -> float:
        return sum(
            approx_distance_m(rep.home_lat or 0.0, rep.home_lng or 0.0, *middles[slice_index])
            for rep, slice_index in zip(reps, permutation, strict=True)
        )

    best = min(itertools.permutations(range(len(reps))), key=commute)
    return {i: rep for rep, slice_index in zip(reps, best, strict=True) for i in slices[slice_index]}


def _balance_beats(fields: list[dict[str, Any]]) -> None:
    """Spread each rep's once-a-week and fortnightly stores over the working days, as a territory manager sets up
    a beat, so every rep has stores due every working day (the random weekdays left some days empty)."""
    by_rep: dict[Any, list[dict[str, Any]]] = {}
    for values in fields:
        frequency = values["visit_frequency"]
        if frequency["kind"] == "weekly" and len(frequency["weekdays"]) == 1:
            by_rep.setdefault(values.get("assigned_rep_id"), []).append(values)
    for own in by_rep.values():
        own.sort(key=lambda v: (v["visit_frequency"]["every_weeks"], v["lat"], v["lng"]))
        for index, values in enumerate(own):
            open_days = [d for d in WORKING_DAYS if d in (values["opening_hours"] or {d: []})]
            days = WORKING_DAYS[index % len(WORKING_DAYS) :] + WORKING_DAYS[: index % len(WORKING_DAYS)]
            values["visit_frequency"]["weekdays"] = [next((d for d in days if d in open_days), days[0])]


def plan_stores(rng: random.Random, places: Places, team: Team, territory_ids: dict[str, uuid.UUID]) -> list[DemoStore]:
    """The demo stores, each inside its territory and assigned to one of that territory's reps."""
    mix = [(channel, chain) for channel, chain, count in STORE_MIX for _ in range(count)]
    rng.shuffle(mix)
    hoods = [index for index, hood in enumerate(places.neighbourhoods) for _ in range(hood.stores)]
    if len(mix) != len(hoods):
        raise ValueError(f"the store mix ({len(mix)}) and the neighbourhoods ({len(hoods)}) disagree")
    fields = [
        _store_fields(rng, places, channel, chain, hood) for (channel, chain), hood in zip(mix, hoods, strict=True)
    ]
    for key in territory_ids:
        members = [i for i, hood in enumerate(hoods) if places.neighbourhoods[hood].territory == key]
        owners = _split_among_reps([fields[i] for i in members], team.reps_of(key))
        for position, rep in owners.items():
            fields[members[position]]["assigned_rep_id"] = rep.user_id
            fields[members[position]]["territory_id"] = territory_ids[key]
    _balance_beats(fields)
    stores = []
    for number, values in enumerate(fields, start=1):
        data = msgspec.convert({"code": f"SH-{number:04d}", **values}, StoreCreate)
        check_shape(data.geofence, data.opening_hours, data.lat, data.lng)
        stores.append(DemoStore(id=new_id(), data=data))
    return stores
