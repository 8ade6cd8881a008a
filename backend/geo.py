"""Geometry that needs no database: distances and fence shapes (shapely 2 + geopy)."""

from __future__ import annotations

from typing import Any

from pyproj import Geod
from shapely.geometry import Point, shape
from shapely.validation import explain_validity

# A fence polygon this far from its store's location is surely a mistake (swapped lat/lng, wrong store).
MAX_FENCE_OFFSET_M = 2_000.0


_GEOD = Geod(ellps="WGS84")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Geodesic distance on WGS84 in metres: Karney's algorithm, as geopy's `geodesic`, but PROJ's C
    implementation (about 30 times faster; tests/backend/test_geo.py checks the two agree)."""
    return float(_GEOD.inv(lng1, lat1, lng2, lat2)[2])


def polygon_problem(geojson: dict[str, Any]) -> str | None:
    """Why a GeoJSON Polygon or MultiPolygon (lng, lat order, RFC 7946) is unusable, or None when it is fine."""
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return "must be a GeoJSON Polygon or MultiPolygon"
    polygons = [geojson.get("coordinates")] if kind == "Polygon" else geojson.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        return "has no coordinates"
    for rings in polygons:
        if not isinstance(rings, list) or not rings:
            return "has a polygon without rings"
        for ring in rings:
            if not isinstance(ring, list) or len(ring) < 4:
                return "each ring needs at least 4 positions (the first repeated last)"
            for position in ring:
                if not (isinstance(position, list | tuple) and len(position) in (2, 3)):
                    return "each position is [longitude, latitude]"
                lng, lat = position[0], position[1]
                if not all(isinstance(v, int | float) for v in (lng, lat)):
                    return "positions must be numbers"
                if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                    return f"position [{lng}, {lat}] is out of range (GeoJSON order is [longitude, latitude])"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return "each ring must be closed (its last position equal to its first)"
    geometry = shape(geojson)
    if not geometry.is_valid:
        return f"is not a valid polygon: {explain_validity(geometry)}"
    if geometry.area == 0:
        return "has no area"
    return None


def polygon_offset_m(geojson: dict[str, Any], lat: float, lng: float) -> float:
    """Metres from (lat, lng) to the nearest point of the polygon; 0 when inside."""
    geometry = shape(geojson)
    point = Point(lng, lat)
    if geometry.contains(point):
        return 0.0
    from shapely.ops import nearest_points

    nearest = nearest_points(geometry, point)[0]
    return distance_m(lat, lng, nearest.y, nearest.x)
