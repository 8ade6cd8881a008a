"""Travel matrices for the route planner: how long and how far from every place to every other.

From an OSRM server's road network when `FIELDBOOK_OSRM_URL` names one (backend/planning/osrm.py), else estimated:
the geodesic distance on the WGS84 ellipsoid, lengthened by a detour factor for the roads and driven at an
average speed. Both kinds add the same parking time to every leg that moves, because finding a space and
walking to the door is part of reaching a store that no road network knows about.

The planner must always get a matrix, so anything that goes wrong with OSRM falls back to the estimate, logs a
warning on "fieldbook.planning", and says so in `Matrices.warning` for the person planning the day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec
import numpy as np
from msgspec import Meta
from pyproj import Geod

from backend.planning.osrm import FloatMatrix, OsrmError, fetch_table
from backend.settings import Settings

log = logging.getLogger("fieldbook.planning")

_GEOD = Geod(ellps="WGS84")

IntMatrix = list[list[int]]


class TravelModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the estimate turns straight lines into a rep's travel; each organisation tunes it to its area."""

    # Road distance over straight-line distance ("circuity"): about 1.2 to 1.4 in cities with a street grid,
    # more where rivers, railways and hills force the roads round.
    detour_factor: Annotated[float, Meta(ge=1.0, le=3.0)] = 1.3
    # Average speed door to door, traffic lights and jams included: about 30 km/h in a city, 60+ in the country.
    speed_kmh: Annotated[float, Meta(ge=5, le=130)] = 30.0
    # Parking and walking to the door, added to every leg that moves (OSRM's too); not to a leg between two
    # stores at the same place, e.g. in one mall.
    parking_s: Annotated[int, Meta(ge=0, le=3_600)] = 120


class Matrices(msgspec.Struct, frozen=True, kw_only=True):
    """Square matrices, one row per place in the order given, with a zero diagonal."""

    durations: IntMatrix  # whole seconds, parking included
    distances: IntMatrix  # whole metres
    source: Literal["osrm", "estimate"]
    # A sentence for the planner's user when the matrices are not wholly what was asked for; None when they are.
    warning: str | None = None


def _coordinates(points: Sequence[Sequence[float]]) -> FloatMatrix:
    """The points as an n x 2 array of [longitude, latitude]; ValueError naming the first bad one."""
    if len(points) == 0:
        return np.empty((0, 2))
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("points must be [longitude, latitude] pairs of numbers") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError("points must be [longitude, latitude] pairs of numbers")
    lng, lat = array[:, 0], array[:, 1]
    bad = ~(np.isfinite(array).all(axis=1) & (np.abs(lng) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"point {k} {array[k].tolist()} is out of range (the order is [longitude, latitude])")
    return array


def _estimate(coordinates: FloatMatrix, model: TravelModel) -> tuple[FloatMatrix, FloatMatrix]:
    """(seconds, metres) between all the points as floats, before parking and rounding."""
    n = len(coordinates)
    metres = np.zeros((n, n))
    if n > 1:
        # One vectorised call over the upper triangle: PROJ's Karney geodesic, as backend/geo.py's distance_m.
        i, j = np.triu_indices(n, k=1)
        _, _, geodesic = _GEOD.inv(coordinates[i, 0], coordinates[i, 1], coordinates[j, 0], coordinates[j, 1])
        metres[i, j] = metres[j, i] = np.asarray(geodesic) * model.detour_factor
    return metres / (model.speed_kmh / 3.6), metres


def _finish(seconds: FloatMatrix, metres: FloatMatrix, model: TravelModel) -> tuple[IntMatrix, IntMatrix]:
    """Whole seconds and metres, a zero diagonal, and parking on every leg that moves."""
    durations = np.rint(seconds)
    distances = np.rint(metres)
    np.fill_diagonal(durations, 0)
    np.fill_diagonal(distances, 0)
    moving = (durations > 0) | (distances > 0)
    durations[moving] += model.parking_s
    return durations.astype(np.int64).tolist(), distances.astype(np.int64).tolist()


def estimate_matrices(
    points: Sequence[Sequence[float]], model: TravelModel | None = None
) -> tuple[IntMatrix, IntMatrix]:
    """(durations in whole seconds, distances in whole metres) between all `points` ([longitude, latitude]),
    from the geodesic distance times the detour factor at the model's speed, plus parking on each leg that moves.
    Symmetric, zero diagonal; ValueError for a point that is not a [longitude, latitude] in range."""
    model = model or TravelModel()
    return _finish(*_estimate(_coordinates(points), model), model)


def _fill_gaps(
    coordinates: FloatMatrix, seconds: FloatMatrix, metres: FloatMatrix, model: TravelModel
) -> tuple[FloatMatrix, FloatMatrix, str | None]:
    """OSRM's matrices with its nulls (NaN) replaced by the estimate, and a warning saying how many there were.

    A null is a pair OSRM's graph cannot connect: an island, a gated estate, a place the map extract cuts off.
    Filling just those pairs keeps the rest of the road matrix, which is still right, and leaves the pair
    plannable: the rep may well know the ferry or the private road the map lacks, and the warning tells them."""
    gaps = np.isnan(seconds) | np.isnan(metres)
    np.fill_diagonal(gaps, False)
    count = int(gaps.sum())
    if count == 0:
        return seconds, metres, None
    estimate_s, estimate_m = _estimate(coordinates, model)
    n = len(coordinates)
    log.warning("OSRM found no route for %d of %d pairs of places; using the estimate for those", count, n * (n - 1))
    warning = f"OSRM found no road route for {count} of {n * (n - 1)} trips; those are straight-line estimates."
    return np.where(gaps, estimate_s, seconds), np.where(gaps, estimate_m, metres), warning


async def travel_matrices(points: Sequence[Sequence[float]], model: TravelModel, settings: Settings) -> Matrices:
    """The travel matrices between all `points` ([longitude, latitude]): from OSRM when `settings.osrm_url` is
    set and it answers within `settings.osrm_timeout_s`, else (and without touching the network when the URL is
    empty) the estimate, with `warning` saying why. Raises ValueError only for a bad point."""
    coordinates = _coordinates(points)
    if not settings.osrm_url or len(coordinates) < 2:
        durations, distances = _finish(*_estimate(coordinates, model), model)
        return Matrices(durations=durations, distances=distances, source="estimate")
    try:
        # The timeout bounds the whole matrix, however many blocks it takes: it is how long planning may wait.
        async with asyncio.timeout(settings.osrm_timeout_s):
            seconds, metres = await fetch_table(settings.osrm_url, coordinates.tolist(), settings.osrm_timeout_s)
    except TimeoutError:
        reason = f"OSRM did not answer within {settings.osrm_timeout_s:g} s"
        log.warning("Using estimated travel times: %s", reason)
    except OsrmError as exc:
        reason = str(exc)
        log.warning("Using estimated travel times: %s", reason)
    except Exception:
        # A bug or a surprise from httpx: still plan the day, but keep the traceback for whoever reads the logs.
        reason = "OSRM failed unexpectedly"
        log.exception("Using estimated travel times: %s", reason)
    else:
        seconds, metres, warning = _fill_gaps(coordinates, seconds, metres, model)
        durations, distances = _finish(seconds, metres, model)
        return Matrices(durations=durations, distances=distances, source="osrm", warning=warning)
    durations, distances = _finish(*_estimate(coordinates, model), model)
    warning = f"{reason[0].upper()}{reason[1:]}; travel times are straight-line estimates."
    return Matrices(durations=durations, distances=distances, source="estimate", warning=warning)
