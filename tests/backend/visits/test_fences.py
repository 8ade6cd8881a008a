"""Geofence verdicts (backend/visits/fences.py) against the shared vectors and an independent geopy reference.

The reference below uses only geopy's geodesic and planar point-in-polygon in longitude/latitude (where RFC 7946
edges are straight): no projection, no pyproj. It is slow and obviously right, which is what a reference should be.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Point, Polygon

from backend.stores.schemas import CircleFence, PolygonFence
from backend.visits.fences import (
    Fence,
    FenceRules,
    Fix,
    fence_distance_m,
    judge,
    judge_many,
)

VECTORS = Path(__file__).resolve().parents[3] / "backend" / "visits" / "vectors" / "fences.json"
CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
# Room for the centimetre rounding of distances and for sub-millimetre differences in how an edge is drawn.
MARGIN_M = 0.05
GOLDEN = (math.sqrt(5) - 1) / 2


# --- the reference ------------------------------------------------------------------------------------------------


def wrap(lng: float, around: float) -> float:
    """lng moved by whole turns to within 180 degrees of `around`."""
    return around + (lng - around + 180.0) % 360.0 - 180.0


def geodesic_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return float(geodesic((lat1, wrap(lng1, 0.0)), (lat2, wrap(lng2, 0.0))).meters)


def nearest_on_edge_m(lat: float, lng: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Least geodesic distance from the point to the edge a-b (lng, lat; straight in lng/lat), by golden section:
    along an edge this short the distance has one minimum."""

    def at(t: float) -> float:
        return geodesic_m(lat, lng, a[1] + t * (b[1] - a[1]), a[0] + t * (b[0] - a[0]))

    lo, hi = 0.0, 1.0
    for _ in range(32):
        m1, m2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
        if at(m1) < at(m2):
            hi = m2
        else:
            lo = m1
    return min(at(0.0), at(1.0), at((lo + hi) / 2))


def reference_distance_m(lat: float, lng: float, fence: dict[str, Any]) -> float:
    """Metres from the point to the fence (store API JSON: lat, lng, geofence), 0 inside; geopy only."""
    geofence = fence["geofence"]
    if geofence["kind"] == "circle":
        return max(0.0, geodesic_m(lat, lng, fence["lat"], fence["lng"]) - geofence["radius_m"])
    polygon = geofence["polygon"]
    polygons = [polygon["coordinates"]] if polygon["type"] == "Polygon" else polygon["coordinates"]
    # Longitudes within 180 degrees of the first corner, so a polygon across the antimeridian is drawn the short way.
    anchor = polygons[0][0][0][0]
    parts = [[[(wrap(x, anchor), y) for x, y, *_ in ring] for ring in part] for part in polygons]
    lng = wrap(lng, anchor)
    if any(Polygon(part[0], part[1:]).intersects(Point(lng, lat)) for part in parts):
        return 0.0
    edges = [(a, b) for part in parts for ring in part for a, b in itertools.pairwise(ring)]
    return min(nearest_on_edge_m(lat, lng, a, b) for a, b in edges)


def destination(lat: float, lng: float, bearing: float, metres: float) -> tuple[float, float]:
    point = geodesic(meters=metres).destination((lat, lng), bearing)
    return point.latitude, wrap(point.longitude, 0.0)


def as_fence(data: dict[str, Any]) -> Fence:
    return msgspec.convert(data, Fence)


# --- the shared vectors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    fix = msgspec.convert(case["fix"], Fix)
    rules = msgspec.convert(case["rules"], FenceRules)
    verdict = judge(fix, as_fence(case["fence"]), rules)
    expected = case["expected"]
    assert (verdict.verdict, verdict.reason) == (expected["verdict"], expected["reason"])
    assert abs(verdict.distance_m - expected["distance_m"]) <= expected["allowed_error_m"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in CASES])
def test_vector_distance_agrees_with_the_geopy_reference(case: dict[str, Any]) -> None:
    """The vectors' expected distances were worked out by construction; the reference confirms each one."""
    fix = case["fix"]
    reference = reference_distance_m(fix["lat"], fix["lng"], case["fence"])
    assert abs(reference - case["expected"]["distance_m"]) <= 0.02


def test_vectors_cover_every_verdict_reason_and_shape() -> None:
    reasons = {c["expected"]["reason"] for c in CASES}
    assert reasons == {
        "within_fence",
        "within_tolerance",
        "beyond_fence",
        "accuracy_overlaps_edge",
        "accuracy_too_poor",
    }
    kinds = {c["fence"]["geofence"].get("polygon", {}).get("type", "circle") for c in CASES}
    assert kinds == {"circle", "Polygon", "MultiPolygon"}


def test_vectors_judged_as_one_batch_per_rules() -> None:
    by_rules: dict[str, list[dict[str, Any]]] = {}
    for case in CASES:
        by_rules.setdefault(json.dumps(case["rules"], sort_keys=True), []).append(case)
    for rules_json, cases in by_rules.items():
        fences = [as_fence(c["fence"]) for c in cases]
        verdicts = judge_many(
            [c["fix"]["lat"] for c in cases],
            [c["fix"]["lng"] for c in cases],
            [c["fix"]["accuracy_m"] for c in cases],
            fences,
            np.arange(len(cases)),
            msgspec.json.decode(rules_json, type=FenceRules),
        )
        for case, verdict in zip(cases, verdicts, strict=True):
            assert (verdict.verdict, verdict.reason) == (case["expected"]["verdict"], case["expected"]["reason"])


# --- accuracy against geopy -----------------------------------------------------------------------------------------

PLACES = {
    "shanghai": (31.2304, 121.4737),
    "tromso_70n": (69.6492, 18.9553),
    "hammerfest_70n": (70.6634, 23.6821),
    "sydney": (-33.8688, 151.2093),
    "fiji_west_of_180": (-16.79, 179.9995),
    "fiji_east_of_180": (-16.79, -179.9995),
}
BEARINGS = range(0, 360, 30)


def square(lat: float, lng: float, half_m: float = 60.0) -> dict[str, Any]:
    """A square-ish polygon around (lat, lng), written as GeoJSON longitudes in [-180, 180] (so it may cross 180)."""
    corners = [destination(lat, lng, b, half_m * math.sqrt(2)) for b in (225, 135, 45, 315, 225)]
    return {"type": "Polygon", "coordinates": [[[x, y] for y, x in corners]]}


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_circle_distance_within_half_a_metre_of_geopy_at_10_km(place: tuple[float, float]) -> None:
    lat, lng = place
    fence = Fence(lat, lng, CircleFence(radius_m=120.0))
    for bearing in BEARINGS:
        fix = destination(lat, lng, bearing, 10_120.0)
        expected = geodesic_m(*fix, lat, lng) - 120.0
        assert abs(fence_distance_m(*fix, fence) - expected) <= 0.5, bearing


@pytest.mark.parametrize("metres", [10_000.0, 100_000.0])
@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_polygon_distance_within_half_a_metre_of_geopy(place: tuple[float, float], metres: float) -> None:
    lat, lng = place
    fence = {"lat": lat, "lng": lng, "geofence": {"kind": "polygon", "polygon": square(lat, lng)}}
    for bearing in BEARINGS:
        fix = destination(lat, lng, bearing, metres)
        expected = reference_distance_m(*fix, fence)
        assert abs(fence_distance_m(*fix, as_fence(fence)) - expected) <= 0.5, bearing


@pytest.mark.parametrize("metres", [10_000.0, 100_000.0, 1_000_000.0])
def test_polygon_2_km_from_its_store_within_half_a_metre_of_geopy(metres: float) -> None:
    lat, lng = 69.6492, 18.9553
    polygon = square(*destination(lat, lng, 60, 2_000.0))
    fence = {"lat": lat, "lng": lng, "geofence": {"kind": "polygon", "polygon": polygon}}
    for bearing in BEARINGS:
        fix = destination(lat, lng, bearing, metres)
        expected = reference_distance_m(*fix, fence)
        assert abs(fence_distance_m(*fix, as_fence(fence)) - expected) <= 0.5, bearing


# --- properties -----------------------------------------------------------------------------------------------------

latitudes = st.one_of(st.floats(-80, 80), st.sampled_from([70.0, -70.0]))
longitudes = st.one_of(st.floats(-180, 180), st.sampled_from([179.999, -179.999, 180.0, -180.0]))
rules_strategy = st.builds(
    FenceRules, tolerance_m=st.floats(0, 1_000), max_accuracy_m=st.floats(1, 5_000, exclude_min=False)
)
accuracies = st.one_of(st.floats(0, 6_000), st.sampled_from([0.0, 5.0, 150.0]))


def check_properties(verdict: str, distance: float, reference: float, accuracy: float, rules: FenceRules) -> None:
    assert abs(distance - reference) <= MARGIN_M
    if reference > rules.tolerance_m + MARGIN_M:
        assert verdict != "inside"
    if reference == 0.0:
        assert verdict != "outside"
    if accuracy > rules.max_accuracy_m:
        assert verdict != "inside"


# Many fixes land within a few metres of fence + tolerance, where a wrong comparison would show.
near_the_limit = st.one_of(st.floats(-30_000, 30_000), st.floats(-3, 3))


@settings(deadline=None)
@given(
    lat=latitudes,
    lng=longitudes,
    radius=st.floats(10, 5_000),
    bearing=st.floats(0, 360),
    beyond_limit=near_the_limit,
    accuracy=accuracies,
    rules=rules_strategy,
)
def test_circle_verdicts_respect_the_geodesic_distance(
    lat, lng, radius, bearing, beyond_limit, accuracy, rules
) -> None:
    metres = max(0.0, radius + rules.tolerance_m + beyond_limit)
    fix_lat, fix_lng = destination(lat, lng, bearing, metres)
    fence = {"lat": lat, "lng": lng, "geofence": {"kind": "circle", "radius_m": radius}}
    reference = reference_distance_m(fix_lat, fix_lng, fence)
    verdict = judge(Fix(fix_lat, fix_lng, accuracy), as_fence(fence), rules)
    check_properties(verdict.verdict, verdict.distance_m, reference, accuracy, rules)


@st.composite
def convex_polygons(draw: st.DrawFn) -> dict[str, Any]:
    """A store and a convex polygon of 3 to 8 corners within 400 m of it, as the store API keeps it."""
    lat, lng = draw(latitudes), draw(longitudes)
    corners = [
        destination(lat, lng, draw(st.floats(0, 360)), draw(st.floats(15, 400))) for _ in range(draw(st.integers(3, 8)))
    ]
    hull = MultiPoint([(wrap(x, lng), y) for y, x in corners]).convex_hull
    if hull.geom_type != "Polygon" or hull.area < 1e-9:
        # Corners in a line: make it a triangle around the store instead.
        hull = MultiPoint(
            [(wrap(x, lng), y) for y, x in (destination(lat, lng, b, 50) for b in (0, 120, 240))]
        ).convex_hull
    ring = [[wrap(x, 0.0), y] for x, y in hull.exterior.coords]
    return {
        "lat": lat,
        "lng": wrap(lng, 0.0),
        "geofence": {"kind": "polygon", "polygon": {"type": "Polygon", "coordinates": [ring]}},
    }


@settings(deadline=None, max_examples=60)
@given(fence=convex_polygons(), data=st.data(), accuracy=accuracies, rules=rules_strategy)
def test_polygon_verdicts_respect_the_geodesic_distance(fence, data, accuracy, rules) -> None:
    """Fixes around the store, and fixes about fence + tolerance from a corner."""
    corners = fence["geofence"]["polygon"]["coordinates"][0]
    if data.draw(st.booleans()):
        lng, lat = fence["lng"], fence["lat"]
        metres = data.draw(st.one_of(st.floats(0, 1_500), st.floats(0, 30_000)))
    else:
        lng, lat = data.draw(st.sampled_from(corners))
        metres = max(0.0, rules.tolerance_m + data.draw(st.floats(-3, 3)))
    fix_lat, fix_lng = destination(lat, lng, data.draw(st.floats(0, 360)), metres)
    reference = reference_distance_m(fix_lat, fix_lng, fence)
    verdict = judge(Fix(fix_lat, fix_lng, accuracy), as_fence(fence), rules)
    check_properties(verdict.verdict, verdict.distance_m, reference, accuracy, rules)


# --- batches ------------------------------------------------------------------------------------------------------

POOL = [as_fence(c["fence"]) for c in CASES]
pairs = st.lists(
    st.tuples(
        st.integers(0, len(POOL) - 1),
        st.floats(0, 360),
        st.one_of(st.floats(0, 500), st.floats(0, 200_000)),
        accuracies,
    ),
    max_size=40,
)


@settings(deadline=None)
@given(pairs=pairs, rules=rules_strategy)
def test_batch_verdicts_equal_one_by_one_verdicts(pairs: list[tuple[int, float, float, float]], rules) -> None:
    fixes = []
    for which, bearing, metres, accuracy in pairs:
        fixes.append(Fix(*destination(POOL[which].lat, POOL[which].lng, bearing, metres), accuracy))
    batch = judge_many(
        [f.lat for f in fixes],
        [f.lng for f in fixes],
        [f.accuracy_m for f in fixes],
        POOL,
        [p[0] for p in pairs],
        rules,
    )
    assert list(batch) == [judge(fix, POOL[p[0]], rules) for fix, p in zip(fixes, pairs, strict=True)]


def test_batch_against_one_fence_equals_one_by_one() -> None:
    fence = POOL[0]
    fixes = [
        Fix(*destination(fence.lat, fence.lng, b, m), a)
        for b in range(0, 360, 40)
        for m in (0, 90, 130, 400)
        for a in (0, 20, 200)
    ]
    batch = judge_many([f.lat for f in fixes], [f.lng for f in fixes], [f.accuracy_m for f in fixes], fence)
    assert list(batch) == [judge(f, fence) for f in fixes]
    assert len(judge_many([], [], [], fence)) == 0


# --- bad input ----------------------------------------------------------------------------------------------------

SHANGHAI = Fence(31.2304, 121.4737, CircleFence(radius_m=100.0))


@pytest.mark.parametrize(
    ("lat", "lng", "accuracy", "message"),
    [
        ([31.2, 31.3], [121.4], [5.0], "one length"),
        ([91.0], [121.4], [5.0], "lat"),
        ([31.2], [181.0], [5.0], "lng"),
        ([31.2], [121.4], [-1.0], "accuracy_m"),
        ([31.2], [121.4], [math.nan], "accuracy_m"),
        ([math.nan], [121.4], [5.0], "lat"),
    ],
)
def test_bad_fixes_are_refused(lat, lng, accuracy, message) -> None:
    with pytest.raises(ValueError, match=message):
        judge_many(lat, lng, accuracy, SHANGHAI)


def test_bad_fence_indexes_are_refused() -> None:
    with pytest.raises(ValueError, match="not there"):
        judge_many([31.2], [121.4], [5.0], [SHANGHAI], [1])
    with pytest.raises(ValueError, match="needed"):
        judge_many([31.2], [121.4], [5.0], [SHANGHAI])
    with pytest.raises(ValueError, match="integer"):
        judge_many([31.2], [121.4], [5.0], [SHANGHAI], [0.5])


def test_rules_out_of_range_are_refused_in_code_and_in_json() -> None:
    with pytest.raises(ValueError, match="tolerance_m"):
        FenceRules(tolerance_m=-1.0)
    with pytest.raises(ValueError, match="max_accuracy_m"):
        FenceRules(max_accuracy_m=0.0)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"tolerance_m": 1001}', type=FenceRules)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"lat": 31.2, "lng": 121.4, "accuracy_m": -3}', type=Fix)


def test_unusable_polygons_are_refused() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[121.47, 31.23], [121.48, 31.24], [121.48, 31.23], [121.47, 31.24], [121.47, 31.23]]],
    }
    with pytest.raises(ValueError, match="not usable"):
        fence_distance_m(31.23, 121.47, Fence(31.23, 121.47, PolygonFence(bowtie)))
    with pytest.raises(ValueError, match="Polygon"):
        fence_distance_m(
            31.23, 121.47, Fence(31.23, 121.47, PolygonFence({"type": "Point", "coordinates": [121.47, 31.23]}))
        )
