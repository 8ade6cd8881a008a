"""Where the demo happens: real Shanghai neighbourhoods, two sales territories and the reps' homes.

The data lives in `places.json`; this module loads it into typed structs and offers the small amount of flat-earth
geometry the generators need (points within a kilometre or two, where an equirectangular projection is accurate to
well under a metre).
"""

from __future__ import annotations

import math
import random
from functools import cache
from importlib import resources
from typing import Any

import msgspec

EARTH_RADIUS_M = 6_371_008.8


class Neighbourhood(msgspec.Struct, frozen=True):
    name: str
    district: str
    territory: str
    lat: float
    lng: float
    radius_m: float
    stores: int
    postcodes: list[str]
    streets: list[str]


class TerritoryOutline(msgspec.Struct, frozen=True):
    key: str
    name: str
    # A closed ring of [longitude, latitude] positions (GeoJSON order).
    outline: list[tuple[float, float]]

    def geojson(self) -> dict[str, Any]:
        """The outline as a GeoJSON Polygon."""
        return {"type": "Polygon", "coordinates": [[list(position) for position in self.outline]]}


class Home(msgspec.Struct, frozen=True):
    name: str
    territory: str
    lat: float
    lng: float


class Places(msgspec.Struct, frozen=True):
    city: str
    country: str
    territories: list[TerritoryOutline]
    neighbourhoods: list[Neighbourhood]
    homes: list[Home]


@cache
def load_places() -> Places:
    """The demo geography, read once from the packaged `places.json`."""
    text = resources.files("backend.demo").joinpath("places.json").read_bytes()
    return msgspec.json.decode(text, type=Places)


def shift(lat: float, lng: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m` metres east and `north_m` metres north of (lat, lng)."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlng = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lng + dlng


def approx_distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Distance in metres, equirectangular: fast enough for route ordering, where geodesic precision buys nothing."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = math.radians(lng2 - lng1) * math.cos(mean_lat)
    dy = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def random_point_near(rng: random.Random, lat: float, lng: float, radius_m: float) -> tuple[float, float]:
    """A point uniformly distributed over the disc of `radius_m` around (lat, lng)."""
    # sqrt makes the density uniform per area; without it points would crowd the centre.
    distance = radius_m * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    return shift(lat, lng, distance * math.sin(bearing), distance * math.cos(bearing))
