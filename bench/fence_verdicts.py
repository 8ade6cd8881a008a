"""Geofence verdicts: fixes judged per second by `judge_many`, against a plain Python haversine loop.

`--fences` stores around Shanghai (about 31.2 N 121.5 E), half with a circle fence (40 to 300 m) and half with a
polygon (convex, 4 to 12 corners, or L-shaped, 30 to 300 m across); `--fixes` fixes, each near a random store:
most within 150 m, some up to 1 km, a few up to 20 km, with accuracies from 3 m to 2 km. Every fix is judged against
its own store's fence in one `judge_many` call (the fences prepared inside the timed call, as the server does).

Baseline, same run, same process, same pairs: a plain Python loop computing the haversine distance from each fix to
its store's location: what a hand-written check costs before it knows about fence shapes, the ellipsoid or verdicts.
Both are timed `--repeat` times and the best of each is kept. For scale, the first `--one-by-one` fixes are also
judged with `judge`, one call per fix (which prepares the fence each time). No server and no database.

    .venv/bin/python -m bench.fence_verdicts                          # 100,000 fixes x 300 fences
    .venv/bin/python -m bench.fence_verdicts --fixes 10000 --fences 50
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from backend.stores.schemas import CircleFence, PolygonFence
from backend.visits.fences import Fence, FenceRules, Fix, judge, judge_many

CENTRE = (31.2, 121.5)
CITY_RADIUS_M = 25_000.0
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fixes", type=int, default=100_000, help="fixes to judge (default 100,000)")
    p.add_argument("--fences", type=int, default=300, help="stores, half circles and half polygons (default 300)")
    p.add_argument("--seed", type=int, default=2026, help="random seed for the generated data (default 2026)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of each; the best is kept (default 3)")
    p.add_argument("--one-by-one", type=int, default=2_000, help="fixes also judged one call each (default 2,000)")
    return p.parse_args()


def offset(lat: float, lng: float, north_m: Any, east_m: Any) -> tuple[Any, Any]:
    """A point `north_m`, `east_m` metres from (lat, lng), flat-earth: good enough to place test data."""
    return lat + north_m / METRES_PER_DEGREE, lng + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def polygon(rng: np.random.Generator, lat: float, lng: float) -> dict[str, Any]:
    if rng.random() < 0.25:  # an L: a square with a quarter cut out
        s = rng.uniform(30, 150)
        corners = [(-s, -s), (-s, s), (0, s), (0, 0), (s, 0), (s, -s)]
    else:
        angles = np.sort(rng.uniform(0, 2 * math.pi, int(rng.integers(4, 13))))
        radii = rng.uniform(15, 150, len(angles))
        corners = list(zip(radii * np.cos(angles), radii * np.sin(angles), strict=True))
    ring = [offset(lat, lng, n, e) for n, e in corners]
    hull = shapely.Polygon([(x, y) for y, x in ring])
    if not hull.is_valid:
        hull = hull.convex_hull
    coords = [[x, y] for x, y in hull.exterior.coords]
    return {"type": "Polygon", "coordinates": [coords]}


def make_fences(rng: np.random.Generator, count: int) -> list[Fence]:
    fences = []
    for i in range(count):
        bearing, distance = rng.uniform(0, 2 * math.pi), CITY_RADIUS_M * math.sqrt(rng.random())
        lat, lng = offset(*CENTRE, distance * math.cos(bearing), distance * math.sin(bearing))
        lat, lng = round(float(lat), 6), round(float(lng), 6)
        shape = CircleFence(radius_m=round(float(rng.uniform(40, 300)))) if i % 2 == 0 else None
        fences.append(Fence(lat, lng, shape or PolygonFence(polygon(rng, lat, lng))))
    return fences


def make_fixes(rng: np.random.Generator, fences: list[Fence], count: int) -> dict[str, npt.NDArray[Any]]:
    which = rng.integers(0, len(fences), count)
    reach = rng.choice([150.0, 1_000.0, 20_000.0], size=count, p=[0.7, 0.2, 0.1])
    distance = reach * np.sqrt(rng.random(count))
    bearing = rng.uniform(0, 2 * math.pi, count)
    c_lat = np.array([f.lat for f in fences])[which]
    c_lng = np.array([f.lng for f in fences])[which]
    lat = c_lat + distance * np.cos(bearing) / METRES_PER_DEGREE
    lng = c_lng + distance * np.sin(bearing) / (METRES_PER_DEGREE * np.cos(np.radians(c_lat)))
    accuracy = np.clip(rng.lognormal(math.log(15), 1.0, count), 3, 2_000).round(1)
    return {"lat": lat, "lng": lng, "accuracy": accuracy, "which": which, "c_lat": c_lat, "c_lng": c_lng}


def haversine_loop(rows: list[tuple[float, float, float, float]]) -> list[float]:
    """The baseline: great-circle distance from each fix to its store, one pair at a time in plain Python."""
    out = []
    for lat, lng, c_lat, c_lng in rows:
        p1, p2 = math.radians(lat), math.radians(c_lat)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(c_lng - lng) / 2) ** 2
        out.append(2 * EARTH_RADIUS_M * math.asin(math.sqrt(a)))
    return out


def best_of(repeat: int, run: Any) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    args = parse()
    rng = np.random.default_rng(args.seed)
    fences = make_fences(rng, args.fences)
    fixes = make_fixes(rng, fences, args.fixes)
    rules = FenceRules()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, pyproj {pyproj.__version__} "
        f"(PROJ {pyproj.proj_version_str}), shapely {shapely.__version__}; {os.cpu_count()} cores, "
        f"load average {load} before the run"
    )
    print(f"{args.fixes:,} fixes against {args.fences:,} fences (seed {args.seed}, best of {args.repeat})")

    def judge_all(subset: npt.NDArray[np.intp] | slice = slice(None)) -> Any:
        return judge_many(
            fixes["lat"][subset], fixes["lng"][subset], fixes["accuracy"][subset], fences, fixes["which"][subset], rules
        )

    seconds, verdicts = best_of(args.repeat, judge_all)
    rows = list(zip(*(fixes[k].tolist() for k in ("lat", "lng", "c_lat", "c_lng")), strict=True))
    baseline, _ = best_of(args.repeat, lambda: haversine_loop(rows))
    rate, baseline_rate = args.fixes / seconds, args.fixes / baseline
    print(f"judge_many:       {seconds * 1000:8.1f} ms  {rate:12,.0f} verdicts/s")
    print(f"haversine loop:   {baseline * 1000:8.1f} ms  {baseline_rate:12,.0f} distances/s  (baseline)")
    print(f"ratio:            {rate / baseline_rate:8.2f} x the baseline's rate")

    is_polygon = np.array([isinstance(f.geofence, PolygonFence) for f in fences])[fixes["which"]]
    for name, subset in (("circles only", ~is_polygon), ("polygons only", is_polygon)):
        index = np.flatnonzero(subset)
        part, _ = best_of(args.repeat, lambda index=index: judge_all(index))
        print(f"  {name:14}  {len(index):8,} fixes  {len(index) / part:12,.0f} verdicts/s")
    singles = [
        (Fix(lat, lng, accuracy), fences[which])
        for lat, lng, accuracy, which in zip(
            *(fixes[k][: args.one_by_one].tolist() for k in ("lat", "lng", "accuracy", "which")), strict=True
        )
    ]
    if singles:
        single, _ = best_of(1, lambda: [judge(fix, fence, rules) for fix, fence in singles])
        print(f"judge() one by one: {len(singles):,} fixes  {len(singles) / single:12,.0f} verdicts/s  (for scale)")
    counts = Counter(zip(verdicts.verdict.tolist(), verdicts.reason.tolist(), strict=True))
    print("verdicts: " + ", ".join(f"{v}/{r} {n:,}" for (v, r), n in sorted(counts.items())))


if __name__ == "__main__":
    main()
