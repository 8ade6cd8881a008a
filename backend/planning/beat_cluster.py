"""The beat plan's second half: putting the visits that may go on several days (monthly visits) on the day that
keeps the workload balanced and each day's stores near each other. Pure arithmetic on indexes; beat.py turns
stores and dates into indexes and the result back into a plan.

How a flexible visit finds its day (tests/backend/planning/test_beat.py):

1. A greedy pass takes the visits by priority (highest first, so that when the days are full it is the
   low-priority visits that are left out), then along a Hilbert curve through the stores, so that consecutive
   visits are near each other: cutting a space-filling curve into pieces is the classic cheap way to get compact,
   balanced areas (Bartholdi & Platzman, 1982). Among its allowed days with room (the day's minutes plus this visit
   and the travel it adds stay within `minutes_per_day`), a visit takes the lowest score: the travel it adds (to
   the nearest store already on the day) plus OVER_TARGET_WEIGHT per minute past the target. An empty day scores
   the cost of a new area instead: NEW_AREA times the width of one day's area (the median travel between the
   stores over the square root of the number of days). So a day gathers nearby stores up to the target, and a
   store far from every open day starts a new one. Preferred weekdays come first: other days are only scored when
   no preferred day has room.
2. The greedy target is GREEDY_SLACK above the mean day, so that days are left empty for areas met late on the
   curve. A levelling pass then moves single visits off days above the mean while that lowers the added travel
   plus OVER_TARGET_WEIGHT per minute above the mean, heaviest day first.
3. A day's travel is the minimum spanning tree over its stores; while days fill it is bounded from above by the
   sum of each store's travel from the nearest one already there, so the capacity check is conservative. Visits
   left out for capacity get a second try against the exact trees. A round trip through the day's stores is at
   most about twice the tree; the route planner gives the real figure for one day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# Straight-line distance times this is a fair guess of the road distance in towns.
DETOUR = 1.3
SPEED_KMH = 25.0
# Each minute a day would go past the target load costs as much as this many minutes of added travel.
OVER_TARGET_WEIGHT = 2.0
# Putting a visit on an empty day costs this many widths of a day's area (see the module docstring).
NEW_AREA = 1.5
# The first pass fills days to this much above the mean day.
GREEDY_SLACK = 1.1
# The three were tuned together on uniform and clustered random territories of 60 to 200 stores over 20 days.

EARTH_RADIUS_KM = 6371.0


def straight_travel_minutes(lats: Sequence[float], lngs: Sequence[float]) -> np.ndarray:
    """Minutes between every pair of places (a square matrix): great-circle distance * DETOUR at SPEED_KMH. The
    haversine on a sphere is off the ellipsoid by under 0.5 %, far less than the detour factor's guess."""
    lat = np.radians(np.asarray(lats, dtype=float))
    lng = np.radians(np.asarray(lngs, dtype=float))
    half = (
        np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
        + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin((lng[:, None] - lng[None, :]) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    return km * DETOUR / SPEED_KMH * 60.0


def hilbert_keys(lats: Sequence[float], lngs: Sequence[float], order: int = 16) -> list[int]:
    """Each place's position along a Hilbert curve over the places' bounding square: places close on the curve
    are close on the ground (the converse mostly holds too)."""
    if not lats:
        return []
    lat = np.asarray(lats, dtype=float)
    x = np.asarray(lngs, dtype=float) * np.cos(np.radians(lat.mean()))  # metres per degree of longitude shrink
    y = lat
    side = max(float(x.max() - x.min()), float(y.max() - y.min())) or 1.0
    cells = (1 << order) - 1
    xs = ((x - x.min()) / side * cells).astype(int)
    ys = ((y - y.min()) / side * cells).astype(int)
    return [_hilbert_index(int(a), int(b), order) for a, b in zip(xs, ys, strict=True)]


def _hilbert_index(x: int, y: int, order: int) -> int:
    # The classic xy-to-distance conversion (Hilbert curve, rotating each quadrant).
    distance = 0
    s = 1 << (order - 1)
    while s:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        distance += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        s >>= 1
    return distance


class DayBook:
    """The plan's days while they fill: which stores each day holds and the minutes it takes. A day's travel is
    kept as an upper bound of the spanning tree over its stores (adding a store adds at most its distance to the
    nearest one already there) and made exact by `settle`."""

    def __init__(self, dates: Sequence[dt.date], travel: np.ndarray) -> None:
        self.dates = list(dates)
        self.travel = np.minimum(travel, travel.T)  # an estimate of the day: the direction does not matter
        self.stores: list[list[int]] = [[] for _ in self.dates]
        self.holds = np.zeros((len(self.dates), len(travel)), dtype=bool)  # day x store
        self.visit_minutes = [0] * len(self.dates)
        self.travel_minutes = [0.0] * len(self.dates)

    def minutes(self, day: int) -> float:
        return self.visit_minutes[day] + self.travel_minutes[day]

    def nearest(self, store: int) -> np.ndarray:
        """For each day, the minutes from the store to the nearest store already on it (inf for an empty day)."""
        return np.where(self.holds, self.travel[store], np.inf).min(axis=1)

    def add(self, day: int, store: int, minutes: int) -> None:
        if self.stores[day]:
            self.travel_minutes[day] += float(self.travel[store, self.stores[day]].min())
        self.stores[day].append(store)
        self.holds[day, store] = True
        self.visit_minutes[day] += minutes

    def remove(self, day: int, store: int, minutes: int) -> None:
        self.stores[day].remove(store)
        self.holds[day, store] = False
        self.visit_minutes[day] -= minutes
        self.travel_minutes[day] = self.tree_minutes(self.stores[day])

    def tree_minutes(self, stores: Sequence[int]) -> float:
        """The minimum spanning tree over the stores, in minutes (Prim's algorithm on the dense matrix)."""
        if len(stores) < 2:
            return 0.0
        sub = self.travel[np.ix_(stores, stores)]
        reach = sub[0].copy()  # the cheapest link from the tree to each store
        joined = np.zeros(len(stores), dtype=bool)
        joined[0] = True
        total = 0.0
        for _ in range(len(stores) - 1):
            outside = np.where(joined, np.inf, reach)
            nxt = int(np.argmin(outside))
            total += float(outside[nxt])
            joined[nxt] = True
            np.minimum(reach, sub[nxt], out=reach)
        return total

    def settle(self) -> None:
        """Replace each day's upper bound by its spanning tree."""
        self.travel_minutes = [self.tree_minutes(on_day) for on_day in self.stores]


@dataclass
class Flexible:
    """A visit that may go on any of `allowed` (day indexes, already limited to open working days of its part of
    the month and to the spacing after the last visit); two visits of one store stay `gap` days apart."""

    store: int
    due_from: dt.date
    due_to: dt.date
    allowed: list[int]
    preferred: set[int] = field(default_factory=set)
    gap: int = 1


Failure = Literal["spacing", "over_capacity"]


def place_flexible(
    book: DayBook,
    visits: Sequence[Flexible],
    *,
    minutes: Sequence[int],
    priorities: Sequence[int],
    curve: Sequence[int],
    minutes_per_day: int,
) -> list[tuple[Flexible, Failure]]:
    """Put each visit on one of its allowed days (see the module docstring), level the days, settle the travel
    estimates; return the visits that found no day."""
    placer = _Placer(book, visits, minutes, minutes_per_day)
    order = sorted(range(len(visits)), key=lambda v: (-priorities[visits[v].store], curve[visits[v].store], v))
    failures = {v: reason for v in order if (reason := placer.place(v)) is not None}
    book.settle()
    placer.level()
    book.settle()
    # The spanning trees are shorter than the bounds the first pass checked against: try the full days again.
    for v in [v for v in order if failures.get(v) == "over_capacity"]:
        if placer.place(v) is None:
            del failures[v]
            book.settle()
    return [(visits[v], reason) for v, reason in failures.items()]


class _Placer:
    def __init__(self, book: DayBook, visits: Sequence[Flexible], minutes: Sequence[int], capacity: int) -> None:
        self.book = book
        self.visits = visits
        self.minutes = minutes
        self.capacity = capacity
        self.day_of: dict[int, int] = {}  # visit -> day
        self.on_day: list[list[int]] = [[] for _ in book.dates]  # day -> visits
        self.of_store: dict[int, list[int]] = {}  # store -> visits placed
        stores = sorted({v.store for v in visits})
        hop = pair = 0.0
        if len(stores) > 1:
            among = book.travel[np.ix_(stores, stores)]
            pair = float(np.median(among))
            hop = float(np.median(np.where(np.eye(len(stores), dtype=bool), np.inf, among).min(axis=1)))
        days = max(1, len(book.dates))
        demand = sum(book.minutes(d) for d in range(len(book.dates))) + sum(minutes[v.store] + hop for v in visits)
        self.target = min(float(capacity), GREEDY_SLACK * demand / days)
        self.new_area = NEW_AREA * pair / days**0.5

    def over(self, load: float) -> float:
        return OVER_TARGET_WEIGHT * max(0.0, load - self.target)

    def spaced(self, v: int, day: int) -> bool:
        """Whether `day` keeps visit v far enough from the store's other visits."""
        visit = self.visits[v]
        ordinal = self.book.dates[day].toordinal()
        return all(
            abs(self.book.dates[self.day_of[other]].toordinal() - ordinal) >= visit.gap
            for other in self.of_store.get(visit.store, ())
            if other != v
        )

    def place(self, v: int) -> Failure | None:
        visit = self.visits[v]
        spaced = [d for d in visit.allowed if self.spaced(v, d)]
        if not spaced:
            return "spacing"
        best: tuple[float, float, int] | None = None
        nearest = self.book.nearest(visit.store)
        for tier in ([d for d in spaced if d in visit.preferred], spaced):
            for day in tier:
                empty = not self.book.stores[day]
                added = 0.0 if empty else float(nearest[day])
                after = self.book.minutes(day) + self.minutes[visit.store] + added
                if after > self.capacity:
                    continue
                candidate = ((self.new_area if empty else added) + self.over(after), after, day)
                if best is None or candidate < best:
                    best = candidate
            if best is not None:
                break
        if best is None:
            return "over_capacity"
        self.put(v, best[2])
        return None

    def put(self, v: int, day: int) -> None:
        self.book.add(day, self.visits[v].store, self.minutes[self.visits[v].store])
        self.day_of[v] = day
        self.on_day[day].append(v)
        self.of_store.setdefault(self.visits[v].store, []).append(v)

    def level(self) -> None:
        """Move single visits off days above the mean, heaviest day first, while that lowers the added travel plus
        OVER_TARGET_WEIGHT per minute above the mean."""
        book = self.book
        self.target = sum(book.minutes(d) for d in range(len(book.dates))) / max(1, len(book.dates))
        for _ in range(2 * len(self.day_of)):
            heavy_days = sorted((d for d in range(len(book.dates)) if book.minutes(d) > self.target), key=book.minutes)
            move = next((m for m in map(self.best_move, reversed(heavy_days)) if m is not None), None)
            if move is None:
                return
            v, day = move
            store = self.visits[v].store
            book.remove(self.day_of[v], store, self.minutes[store])
            self.on_day[self.day_of[v]].remove(v)
            self.of_store[store].remove(v)
            self.put(v, day)

    def best_move(self, heavy: int) -> tuple[int, int] | None:
        book = self.book
        best: tuple[float, int, int] | None = None
        for v in self.on_day[heavy]:
            visit = self.visits[v]
            rest = list(book.stores[heavy])
            rest.remove(visit.store)
            saved = book.travel_minutes[heavy] - book.tree_minutes(rest)
            lighter = book.minutes(heavy) - self.minutes[visit.store] - saved
            gain = saved + self.over(book.minutes(heavy)) - self.over(lighter)
            # A visit on a preferred weekday stays on one.
            days = [d for d in visit.allowed if d in visit.preferred] if heavy in visit.preferred else visit.allowed
            nearest = book.nearest(visit.store)
            for day in days:
                if day == heavy or not self.spaced(v, day):
                    continue
                added = 0.0 if not book.stores[day] else float(nearest[day])
                after = book.minutes(day) + self.minutes[visit.store] + added
                if after > self.capacity:
                    continue
                change = added + self.over(after) - self.over(book.minutes(day)) - gain
                if change < -1e-6 and (best is None or (change, v, day) < best):
                    best = (change, v, day)
        return None if best is None else (best[1], best[2])
