from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from backend.fields import Code, Latitude, Longitude, Name, ShortText

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Channel = Literal[
    "hypermarket",
    "supermarket",
    "convenience",
    "traditional",
    "pharmacy",
    "wholesale",
    "horeca",
    "online",
    "other",
]
HHMM = Annotated[str, Meta(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$", description="Local time HH:MM")]


class Interval(msgspec.Struct, array_like=True, frozen=True):
    """An opening interval, local time of the store: ["08:00", "12:30"]. "24:00" closes at midnight."""

    opens: HHMM
    closes: HHMM

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")


# A weekday left out is closed that day; `null` for the whole field means the hours are unknown.
OpeningHours = dict[Weekday, list[Interval]]


class CircleFence(msgspec.Struct, tag="circle", tag_field="kind", frozen=True, forbid_unknown_fields=True):
    """A circle around the store's location."""

    radius_m: Annotated[float, Meta(ge=10, le=5000, description="Radius in metres")] = 100.0


class PolygonFence(msgspec.Struct, tag="polygon", tag_field="kind", frozen=True, forbid_unknown_fields=True):
    """A GeoJSON Polygon or MultiPolygon ([longitude, latitude] positions, RFC 7946)."""

    polygon: dict[str, Any]


Geofence = CircleFence | PolygonFence


class Weekly(msgspec.Struct, tag="weekly", tag_field="kind", frozen=True, forbid_unknown_fields=True):
    """On each given weekday, every `every_weeks` weeks (1 = every week)."""

    weekdays: Annotated[list[Weekday], Meta(min_length=1, max_length=7)]
    every_weeks: Annotated[int, Meta(ge=1, le=12)] = 1


class Monthly(msgspec.Struct, tag="monthly", tag_field="kind", frozen=True, forbid_unknown_fields=True):
    """`times` visits a calendar month, on the preferred weekdays when given."""

    times: Annotated[int, Meta(ge=1, le=4)] = 1
    weekdays: list[Weekday] = msgspec.field(default_factory=list)


VisitFrequency = Weekly | Monthly

Priority = Annotated[int, Meta(ge=1, le=5, description="1 = lowest, 5 = highest")]
VisitMinutes = Annotated[int, Meta(ge=5, le=480)]
MinVisitMinutes = Annotated[int, Meta(ge=0, le=480, description="A visit shorter than this is flagged; 0: never")]
Country = Annotated[str, Meta(pattern=r"^([A-Z]{2})?$", description="ISO 3166-1 alpha-2")]


class Store(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    code: str
    name: str
    chain: str | None
    channel: Channel
    address: str
    district: str
    city: str
    postcode: str
    country: str
    lat: float
    lng: float
    geofence: Geofence
    opening_hours: OpeningHours | None
    visit_frequency: VisitFrequency
    visit_minutes: int
    min_visit_minutes: int
    priority: int
    assigned_rep_id: uuid.UUID | None
    territory_id: uuid.UUID | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class StoreCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    name: Name
    channel: Channel
    lat: Latitude
    lng: Longitude
    chain: Annotated[str, Meta(max_length=100)] | None = None
    address: ShortText = ""
    district: Annotated[str, Meta(max_length=100)] = ""
    city: Annotated[str, Meta(max_length=100)] = ""
    postcode: Annotated[str, Meta(max_length=20)] = ""
    country: Country = ""
    geofence: Geofence = CircleFence()
    opening_hours: OpeningHours | None = None
    visit_frequency: VisitFrequency = msgspec.field(default_factory=lambda: Weekly(weekdays=["mon"]))
    visit_minutes: VisitMinutes = 30
    min_visit_minutes: MinVisitMinutes = 5
    priority: Priority = 3
    assigned_rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None


class StoreUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields left out are unchanged; `null` clears an optional field."""

    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    channel: Channel | UnsetType = UNSET
    lat: Latitude | UnsetType = UNSET
    lng: Longitude | UnsetType = UNSET
    chain: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    address: ShortText | UnsetType = UNSET
    district: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    city: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    postcode: Annotated[str, Meta(max_length=20)] | UnsetType = UNSET
    country: Country | UnsetType = UNSET
    geofence: Geofence | UnsetType = UNSET
    opening_hours: OpeningHours | UnsetType | None = UNSET
    visit_frequency: VisitFrequency | UnsetType = UNSET
    visit_minutes: VisitMinutes | UnsetType = UNSET
    min_visit_minutes: MinVisitMinutes | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assigned_rep_id: uuid.UUID | UnsetType | None = UNSET
    territory_id: uuid.UUID | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class ImportResult(msgspec.Struct):
    created: int
    updated: int


class Territory(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    polygon: dict[str, Any] | None
    supervisor_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TerritoryCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    polygon: dict[str, Any] | None = None
    supervisor_id: uuid.UUID | None = None


class TerritoryUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    polygon: dict[str, Any] | UnsetType | None = UNSET
    supervisor_id: uuid.UUID | UnsetType | None = UNSET
