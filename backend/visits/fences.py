"""Geofence verdicts: was a rep's GPS fix at the store? Pure functions: no database, no web.

The verdict rules. The distance from a fix to a store's fence is 0 when the fix is inside the fence, otherwise the
WGS84 geodesic distance in metres to the nearest point of the fence: of the circle of `radius_m` around the store,
or of the boundary of its polygon (edges are straight in longitude/latitude, as RFC 7946 says), rounded to the
centimetre. With the organisation's `tolerance_m` and `max_accuracy_m` (FenceRules), and the fix's reported
accuracy radius, the rules are applied in this order:

1. `outside` (`beyond_fence`) when even the nearest point of the accuracy circle is beyond fence plus tolerance:
   distance - accuracy > tolerance. This holds whatever the accuracy: a fix too vague to prove presence can still
   prove absence.
2. `uncertain` (`accuracy_too_poor`) when accuracy > max_accuracy_m: such a fix is never `inside`.
3. `inside` when distance <= tolerance (the fix is within fence plus tolerance): reason `within_fence` when the
   distance is 0, `within_tolerance` when it is between 0 and the tolerance.
4. `uncertain` (`accuracy_overlaps_edge`) otherwise: the fix is beyond fence plus tolerance but its accuracy circle
   reaches back inside it.

Every verdict carries the distance and the reason. Comparisons are inclusive where written `<=`: a fix exactly on
the edge (distance 0) is inside even with a tolerance of 0.

How the distance is computed: for circles, Karney's geodesic from the store (pyproj.Geod, vectorised). For polygons,
shapely 2 on arrays in the azimuthal equidistant projection centred on the store, built from the same geodesic: a
point's x, y are its geodesic distance from the store along its azimuth (which is how PROJ defines the ellipsoidal
`aeqd`). Distances from the store are exact there, and a fence lies close to its store, so the distance from a fix to
the polygon stays within millimetres of the geodesic one near the store, and within 2 cm at 1,000 km for a fence
2 km from its store.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import shapely
import shapely.geometry
from msgspec import Meta
from pyproj import Geod
from shapely.validation import explain_validity

from backend.fields import Latitude, Longitude
from backend.stores.schemas import CircleFence, Geofence, PolygonFence

GEOD: Final = Geod(ellps="WGS84")
MAX_TOLERANCE_M: Final = 1_000.0
MAX_ACCURACY_LIMIT_M: Final = 5_000.0
# Polygon edges are straight in longitude/latitude (RFC 7946, 3.1.1), not in the projection: they are cut into pieces
# of at most this many degrees (about 55 m) before projecting, so each straight projected piece stays within a
# millimetre of its edge (uncut, a 5.5 km edge along a parallel at 70 N would be 1.7 m off in the middle).
EDGE_STEP_DEG: Final = 0.0005

VerdictName = Literal["inside", "outside", "uncertain"]
Reason = Literal["within_fence", "within_tolerance", "beyond_fence", "accuracy_overlaps_edge", "accuracy_too_poor"]
FloatArray = npt.NDArray[np.float64]


class Fix(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A position the phone reported: WGS84 degrees and the radius of its accuracy circle in metres."""

    lat: Latitude
    lng: Longitude
    accuracy_m: Annotated[float, Meta(ge=0, description="Radius of the accuracy circle in metres")]


class FenceRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An organisation's thresholds for verdicts (see the module docstring for how they are used)."""

    tolerance_m: Annotated[
        float, Meta(ge=0, le=MAX_TOLERANCE_M, description="Metres beyond the fence that still count as inside")
    ] = 25.0
    max_accuracy_m: Annotated[
        float, Meta(gt=0, le=MAX_ACCURACY_LIMIT_M, description="Fixes less accurate than this are never inside")
    ] = 150.0

    def __post_init__(self) -> None:
        # Meta is checked when decoding; this also covers rules built in code.
        if not 0 <= self.tolerance_m <= MAX_TOLERANCE_M:
            raise ValueError(f"tolerance_m must be between 0 and {MAX_TOLERANCE_M:g}")
        if not 0 < self.max_accuracy_m <= MAX_ACCURACY_LIMIT_M:
            raise ValueError(f"max_accuracy_m must be above 0 and at most {MAX_ACCURACY_LIMIT_M:g}")


class Fence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A store's fence: its location and its geofence exactly as the store API keeps them."""

    lat: Latitude
    lng: Longitude
    geofence: Geofence


class Verdict(msgspec.Struct, frozen=True):
    """A fix's verdict, its distance to the fence in metres (0 inside) and why (see the module docstring)."""

    verdict: VerdictName
    distance_m: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Many verdicts as parallel arrays: item i is the verdict of fix i."""

    verdict: npt.NDArray[np.str_]
    distance_m: FloatArray
    reason: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.verdict)

    def __getitem__(self, i: int) -> Verdict:
        return Verdict(str(self.verdict[i]), float(self.distance_m[i]), str(self.reason[i]))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Verdict]:
        return (self[i] for i in range(len(self)))


DEFAULT_RULES: Final = FenceRules()


def verdict_for(distance_m: float, accuracy_m: float, rules: FenceRules = DEFAULT_RULES) -> Verdict:
    """The verdict for a fix `distance_m` from the fence with an accuracy radius of `accuracy_m`."""
    if distance_m - accuracy_m > rules.tolerance_m:
        return Verdict("outside", distance_m, "beyond_fence")
    if accuracy_m > rules.max_accuracy_m:
        return Verdict("uncertain", distance_m, "accuracy_too_poor")
    if distance_m <= rules.tolerance_m:
        return Verdict("inside", distance_m, "within_fence" if distance_m == 0 else "within_tolerance")
    return Verdict("uncertain", distance_m, "accuracy_overlaps_edge")


def fence_distance_m(lat: float, lng: float, fence: Fence) -> float:
    """Metres from (lat, lng) to the fence: 0 inside, else to the nearest point of the circle or polygon boundary."""
    lats, lngs, _ = _fix_arrays([lat], [lng], [0.0])
    return float(_distances(lats, lngs, [_prepare(fence)], np.zeros(1, dtype=np.intp))[0])


def judge(fix: Fix, fence: Fence, rules: FenceRules = DEFAULT_RULES) -> Verdict:
    """The verdict of one fix against one store's fence under the organisation's rules."""
    lats, lngs, accuracies = _fix_arrays([fix.lat], [fix.lng], [fix.accuracy_m])
    distance = float(_distances(lats, lngs, [_prepare(fence)], np.zeros(1, dtype=np.intp))[0])
    return verdict_for(distance, float(accuracies[0]), rules)


def judge_many(
    lat: npt.ArrayLike,
    lng: npt.ArrayLike,
    accuracy_m: npt.ArrayLike,
    fences: Fence | Sequence[Fence],
    fence_index: npt.ArrayLike | None = None,
    rules: FenceRules = DEFAULT_RULES,
) -> Verdicts:
    """Verdicts of many fixes, vectorised: fix i against `fences[fence_index[i]]`, or against `fences` when it is one
    fence (then `fence_index` is left out). The same verdicts as `judge` one fix at a time.

    Raises ValueError for arrays of different lengths, a coordinate out of range, an accuracy below 0 or not a number,
    an index out of range, or an unusable polygon.
    """
    lats, lngs, accuracies = _fix_arrays(lat, lng, accuracy_m)
    if isinstance(fences, Fence):
        if fence_index is not None:
            raise ValueError("fence_index goes with a sequence of fences, not with one fence")
        fences, index = [fences], np.zeros(len(lats), dtype=np.intp)
    else:
        if fence_index is None:
            raise ValueError("fence_index is needed with a sequence of fences")
        index = np.asarray(fence_index)
        if index.shape != lats.shape or (index.size and not np.issubdtype(index.dtype, np.integer)):
            raise ValueError("fence_index must hold one integer per fix")
        index = index.astype(np.intp, copy=False)
        if index.size and (index.min() < 0 or index.max() >= len(fences)):
            raise ValueError("fence_index refers to a fence that is not there")
    distances = _distances(lats, lngs, [_prepare(f) for f in fences], index)
    beyond = distances - accuracies > rules.tolerance_m
    too_poor = accuracies > rules.max_accuracy_m
    near = distances <= rules.tolerance_m
    verdict = np.select([beyond, too_poor, near], ["outside", "uncertain", "inside"], "uncertain")
    reason = np.select(
        [beyond, too_poor, near & (distances == 0), near],
        ["beyond_fence", "accuracy_too_poor", "within_fence", "within_tolerance"],
        "accuracy_overlaps_edge",
    )
    return Verdicts(verdict, distances, reason)


# --- geometry ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    lat: float
    lng: float
    radius_m: float  # NaN for a polygon
    shape: Any  # the polygon in the store's projection (metres), or None for a circle


def _fix_arrays(lat: npt.ArrayLike, lng: npt.ArrayLike, accuracy_m: npt.ArrayLike) -> tuple[FloatArray, ...]:
    arrays = tuple(np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (lat, lng, accuracy_m))
    if any(a.ndim != 1 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError("lat, lng and accuracy_m must be one-dimensional and of one length")
    lats, lngs, accuracies = arrays
    if not np.all((lats >= -90) & (lats <= 90)):
        raise ValueError("lat must be between -90 and 90")
    if not np.all((lngs >= -180) & (lngs <= 180)):
        raise ValueError("lng must be between -180 and 180")
    if not np.all((accuracies >= 0) & np.isfinite(accuracies)):
        raise ValueError("accuracy_m must be a number of metres, 0 or more")
    return arrays


def _project(c_lat: FloatArray, c_lng: FloatArray, lat: FloatArray, lng: FloatArray) -> tuple[FloatArray, ...]:
    """(x east, y north, distance) in metres of each point in the azimuthal equidistant projection of its centre."""
    azimuth, _, distance = GEOD.inv(c_lng, c_lat, lng, lat)
    radians = np.radians(azimuth)
    return distance * np.sin(radians), distance * np.cos(radians), np.asarray(distance)


def _prepare(fence: Fence) -> _Prepared:
    if isinstance(fence.geofence, CircleFence):
        return _Prepared(fence.lat, fence.lng, fence.geofence.radius_m, None)
    assert isinstance(fence.geofence, PolygonFence)
    shape = _projected_polygon(fence.geofence.polygon, fence.lat, fence.lng)
    shapely.prepare(shape)
    return _Prepared(fence.lat, fence.lng, math.nan, shape)


def _projected_polygon(geojson: dict[str, Any], lat: float, lng: float) -> Any:
    try:
        geometry = shapely.geometry.shape(geojson)
    except Exception as error:  # shapely raises several kinds for malformed GeoJSON
        raise ValueError(f"the fence polygon is not GeoJSON: {error}") from error
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
        raise ValueError("the fence polygon must be a GeoJSON Polygon or MultiPolygon")
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        rings = [_projected_ring(ring.coords, lat, lng) for ring in (polygon.exterior, *polygon.interiors)]
        part = shapely.Polygon(rings[0], rings[1:])
        if not part.is_valid or part.area == 0:
            raise ValueError(f"the fence polygon is not usable: {explain_validity(part)}")
        parts.append(part)
    # Dissolves the seam of a polygon cut in two at the antimeridian (RFC 7946, 3.1.9), now one piece.
    return shapely.union_all(parts)


def _projected_ring(coords: Any, lat: float, lng: float) -> FloatArray:
    ring = np.asarray(coords, dtype=np.float64)[:, :2].copy()
    # Longitudes within 180 degrees of the store, so an edge crossing the antimeridian stays short.
    ring[:, 0] = lng + (ring[:, 0] - lng + 180.0) % 360.0 - 180.0
    ring = shapely.get_coordinates(shapely.segmentize(shapely.LineString(ring), EDGE_STEP_DEG))
    x, y, _ = _project(np.full(len(ring), lat), np.full(len(ring), lng), ring[:, 1], ring[:, 0])
    return np.column_stack([x, y])


def _distances(lat: FloatArray, lng: FloatArray, fences: list[_Prepared], index: npt.NDArray[np.intp]) -> FloatArray:
    """Metres from fix i to fences[index[i]], rounded to the centimetre (0 inside)."""
    c_lat = np.array([f.lat for f in fences], dtype=np.float64)[index]
    c_lng = np.array([f.lng for f in fences], dtype=np.float64)[index]
    radius = np.array([f.radius_m for f in fences], dtype=np.float64)[index]
    x, y, from_store = _project(c_lat, c_lng, lat, lng)
    result = np.maximum(from_store - radius, 0.0)  # NaN for polygons, filled in below
    polygon = np.flatnonzero(np.isnan(radius))
    if polygon.size:
        shapes = np.array([f.shape for f in fences], dtype=object)[index[polygon]]
        result[polygon] = shapely.distance(shapes, shapely.points(x[polygon], y[polygon]))
    return result.round(2)
