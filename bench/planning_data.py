"""The instances `bench/planning.py` plans: TSPLIB and Solomon files from bench/data/ (sources and known values in
bench/data/README.md), and synthetic field days, due lists and beats in the demo's Shanghai territory.

Everything synthetic is drawn from the caller's `random.Random`, so one seed always gives the same instances.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from backend.demo.places import Home, load_places
from backend.demo.stores import plan_stores
from backend.demo.team import REPS, Member, Team
from backend.planning.beat import BeatStore, open_weekdays
from backend.planning.build import windows_on
from backend.planning.problem import Break, Job, Problem, Vehicle, Window
from backend.planning.rules import PlanningRules
from backend.stores.schemas import WEEKDAYS, Interval, Monthly, OpeningHours, VisitFrequency, Weekly

DATA = Path(__file__).resolve().parent / "data"

# TSPLIB95 optimal tour lengths (bench/data/README.md).
TSP_OPTIMUM = {"eil51": 426, "berlin52": 7542, "st70": 675, "kroA100": 21282}


@dataclass(frozen=True)
class BestKnown:
    """Solomon best-known solutions: fewest vehicles first (the usual ranking), and shortest distance alone."""

    vehicles: int
    distance: float
    distance_only: float
    distance_only_vehicles: int


SOLOMON_BEST = {
    "C101": BestKnown(10, 828.94, 828.94, 10),
    "R101": BestKnown(19, 1645.79, 1642.88, 20),
    "C201": BestKnown(3, 591.56, 591.56, 3),
    "R201": BestKnown(4, 1252.37, 1149.68, 9),
}


# --- TSPLIB -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tsp:
    name: str
    optimum: int
    points: list[tuple[float, float]]

    def matrix(self) -> list[list[int]]:
        """EUC_2D: the Euclidean distance rounded to the nearest integer (TSPLIB95's nint, i.e. int(d + 0.5))."""
        return [[int(math.hypot(ax - bx, ay - by) + 0.5) for bx, by in self.points] for ax, ay in self.points]


def tsplib(name: str) -> Tsp:
    """A TSPLIB EUC_2D instance from bench/data/tsplib/, nodes in file order (node 1 first)."""
    points: list[tuple[float, float]] = []
    in_coordinates = False
    for line in (DATA / "tsplib" / f"{name}.tsp").read_text().splitlines():
        line = line.strip()
        if line.startswith("EDGE_WEIGHT_TYPE") and "EUC_2D" not in line:
            raise ValueError(f"{name}: only EUC_2D instances are supported")
        if line == "NODE_COORD_SECTION":
            in_coordinates = True
        elif line == "EOF":
            break
        elif in_coordinates and line:
            _, x, y = line.split()
            points.append((float(x), float(y)))
    return Tsp(name, TSP_OPTIMUM[name], points)


# --- Solomon ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class Solomon:
    name: str
    vehicles: int
    capacity: int
    customers: list[Customer]  # customer 0 is the depot
    best: BestKnown

    def distance(self, a: int, b: int) -> float:
        """The instance's own distance (and travel time): Euclidean, not rounded."""
        p, q = self.customers[a], self.customers[b]
        return math.hypot(p.x - q.x, p.y - q.y)

    def scaled_matrix(self, scale: int) -> list[list[int]]:
        """Distances times `scale`, rounded to integers: what an integer solver plans with."""
        n = len(self.customers)
        return [[round(self.distance(a, b) * scale) for b in range(n)] for a in range(n)]


def solomon(name: str) -> Solomon:
    """A Solomon VRPTW instance from bench/data/solomon/ (the standard text format)."""
    lines = [line.split() for line in (DATA / "solomon" / f"{name}.txt").read_text().splitlines()]
    numbers = [row for row in lines if row and all(part.isdigit() for part in row)]
    vehicles, capacity = (int(part) for part in numbers[0])
    customers = [
        Customer(float(x), float(y), int(demand), int(ready), int(due), int(service))
        for _, x, y, demand, ready, due, service in numbers[1:]
    ]
    return Solomon(name, vehicles, capacity, customers, SOLOMON_BEST[name])


# --- the demo territory -----------------------------------------------------------------------------------------

TERRITORY = "west"  # Puxi West: Jing'an Temple, Xujiahui, Zhongshan Park, Gubei (about 6 x 4 km)
MONDAY = dt.date(2026, 11, 23)  # the field days are Mondays (opening hours by weekday)
BEAT_START = dt.date(2027, 3, 1)  # four weeks, Monday to Friday, all in March (no month boundary in the horizon)


@dataclass(frozen=True)
class Store:
    """A store as the bench plans it: where, when it opens, how long a visit takes, how much it matters."""

    lat: float
    lng: float
    hours: OpeningHours
    visit_minutes: int
    priority: int


@cache
def demo_stores(seed: int) -> tuple[tuple[Home, ...], tuple[Store, ...], tuple[str, ...]]:
    """The demo's 300 stores exactly as `fieldbook demo` generates them for `seed` (real neighbourhoods, hours
    by channel, visit minutes and priorities), the reps' homes, and each store's territory. Built without a
    database: the team is made of placeholder members at the demo's homes."""
    places = load_places()
    homes_left = {key: [h for h in places.homes if h.territory == key] for key in ("west", "east")}
    reps = []
    for k, (name, territory) in enumerate(REPS):
        home = homes_left[territory].pop(0)
        reps.append(Member(uuid.UUID(int=k + 1), f"rep{k}@bench", name, "rep", territory, home.lat, home.lng))
    team = Team(uuid.UUID(int=100), Member(uuid.UUID(int=99), "admin@bench", "Admin", "admin"), [], reps)
    territory_ids = {"west": uuid.UUID(int=201), "east": uuid.UUID(int=202)}
    planned = plan_stores(random.Random(seed), places, team, territory_ids)
    names = {v: k for k, v in territory_ids.items()}
    stores = tuple(
        Store(s.data.lat, s.data.lng, s.data.opening_hours or {}, s.data.visit_minutes, s.data.priority)
        for s in planned
    )
    return tuple(places.homes), stores, tuple(names[s.data.territory_id] for s in planned)  # type: ignore[index]


def territory(seed: int) -> tuple[Home, list[Store]]:
    """The first home and the demo stores of the bench's territory."""
    homes, stores, territories = demo_stores(seed)
    home = next(h for h in homes if h.territory == TERRITORY)
    return home, [s for s, t in zip(stores, territories, strict=True) if t == TERRITORY]


def _hours(*intervals: tuple[str, str]) -> OpeningHours:
    return {day: [Interval(*i) for i in intervals] for day in WEEKDAYS}


# Tight hours, (share, label, hours): a field day where when matters as much as where.
TIGHT_HOURS: tuple[tuple[float, str, OpeningHours], ...] = (
    (0.20, "08-20", _hours(("08:00", "20:00"))),
    (0.20, "mornings 08-12", _hours(("08:00", "12:00"))),
    (0.20, "afternoons 13:30-18", _hours(("13:30", "18:00"))),
    (0.25, "closed at lunch 09-11:30 + 14-18:30", _hours(("09:00", "11:30"), ("14:00", "18:30"))),
    (0.15, "10-12 only", _hours(("10:00", "12:00"))),
)


def tight_stores(rng: random.Random, seed: int, count: int) -> list[Store]:
    """`count` of the territory's demo stores (their places), with tight hours drawn from TIGHT_HOURS, visits of
    20 to 60 minutes and priorities 1 to 5 (uniform)."""
    _, stores = territory(seed)
    shares = [share for share, _, _ in TIGHT_HOURS]
    return [
        Store(
            s.lat,
            s.lng,
            rng.choices(TIGHT_HOURS, weights=shares)[0][2],
            rng.randrange(20, 61, 5),
            rng.randint(1, 5),
        )
        for s in rng.sample(stores, count)
    ]


def due_stores(rng: random.Random, seed: int, count: int) -> list[Store]:
    """`count` of the territory's demo stores as they are (hours by channel, visit minutes, priorities)."""
    _, stores = territory(seed)
    return rng.sample(stores, count)


def day_points(seed: int, stores: Sequence[Store]) -> list[list[float]]:
    """[longitude, latitude] of the rep's home, then of each store: the places of `day_problem`."""
    home, _ = territory(seed)
    return [[home.lng, home.lat], *([s.lng, s.lat] for s in stores)]


def rep_vehicle(rules: PlanningRules) -> Vehicle:
    """The rep's day from the planning rules (08:30-17:30, lunch 45 minutes starting 11:30-13:30), home to home."""
    (start, end), lunch = rules.shift_s, rules.lunch_s()
    breaks = [] if lunch is None else [Break(id="lunch", windows=[Window(lunch[0], lunch[1])], service_s=lunch[2])]
    return Vehicle(id="rep", start=0, end=0, shift=Window(start, end), breaks=breaks)


def day_problem(
    stores: Sequence[Store],
    durations: list[list[int]],
    distances: list[list[int]],
    *,
    time_limit_s: float,
    solver: Literal["auto", "pyvrp", "vroom"] = "auto",
) -> Problem:
    """One rep's Monday: place 0 is home, place k the store of job k - 1 (windows from its Monday hours, as the
    planning service builds them), one rep with the default planning rules."""
    jobs = [
        Job(
            id=f"s{k:03d}",
            location=k,
            service_s=store.visit_minutes * 60,
            windows=windows_on(store.hours, MONDAY, store.visit_minutes * 60),
            priority=store.priority,
        )
        for k, store in enumerate(stores, start=1)
    ]
    return Problem(
        jobs=jobs,
        vehicles=[rep_vehicle(PlanningRules())],
        durations=durations,
        distances=distances,
        time_limit_s=time_limit_s,
        solver=solver,
    )


# --- a beat -----------------------------------------------------------------------------------------------------

# (share, frequency, visit minutes): a one-rep beat of many small stores, mostly monthly, sized to fill about
# four fifths of 20 days of 420 minutes with visits and the travel estimate between them.
BEAT_MIX: tuple[tuple[float, VisitFrequency, tuple[int, int]], ...] = (
    (0.02, Weekly(weekdays=["tue"]), (20, 30)),
    (0.02, Weekly(weekdays=["thu"]), (20, 30)),
    (0.06, Weekly(weekdays=["mon"], every_weeks=2), (15, 20)),
    (0.06, Weekly(weekdays=["wed"], every_weeks=2), (15, 20)),
    (0.08, Monthly(times=2), (10, 20)),
    (0.76, Monthly(times=1), (10, 15)),
)


def beat_stores(rng: random.Random, seed: int) -> list[BeatStore]:
    """The demo's 300 stores (places, open weekdays, priorities) with frequencies and visit minutes drawn from
    BEAT_MIX."""
    _, stores, _ = demo_stores(seed)
    shares = [share for share, _, _ in BEAT_MIX]
    beat = []
    for k, store in enumerate(stores):
        _, frequency, (low, high) = rng.choices(BEAT_MIX, weights=shares)[0]
        beat.append(
            BeatStore(
                id=f"b{k:03d}",
                lat=store.lat,
                lng=store.lng,
                frequency=frequency,
                open_weekdays=open_weekdays(store.hours),
                visit_minutes=rng.randrange(low, high + 1, 5),
                priority=store.priority,
            )
        )
    return beat


def beat_days(weeks: int = 4) -> list[dt.date]:
    """Monday to Friday for `weeks` weeks from BEAT_START."""
    return [BEAT_START + dt.timedelta(days=7 * w + d) for w in range(weeks) for d in range(5)]
