from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from backend.auth.principal import Role
from backend.fields import Email, Latitude, Locale, Longitude, Name, Password, TimeZoneName


class Organization(msgspec.Struct):
    id: uuid.UUID
    name: str
    time_zone: str
    locale: str
    currency: str


class User(msgspec.Struct):
    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    name: str
    role: Role
    supervisor_id: uuid.UUID | None
    time_zone: str | None
    locale: str | None
    home_lat: float | None
    home_lng: float | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class UserCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    password: Password
    name: Name
    role: Role
    supervisor_id: uuid.UUID | None = None
    time_zone: TimeZoneName | None = None
    locale: Locale | None = None
    home_lat: Latitude | None = None
    home_lng: Longitude | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields left out are unchanged; `null` clears an optional field."""

    name: Name | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    supervisor_id: uuid.UUID | UnsetType | None = UNSET
    time_zone: TimeZoneName | UnsetType | None = UNSET
    locale: Locale | UnsetType | None = UNSET
    home_lat: Latitude | UnsetType | None = UNSET
    home_lng: Longitude | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    password: Password | UnsetType = UNSET
