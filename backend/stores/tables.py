from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization, User
from backend.tables_base import created_column, id_column, updated_column


class Territory(Table):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    name = Varchar(length=200)
    # GeoJSON Polygon or MultiPolygon, WGS84.
    polygon = JSON(null=True, default=None)
    supervisor_id = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = created_column()
    updated_at = updated_column()


class Store(Table):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    code = Varchar(length=64)
    name = Varchar(length=200)
    chain = Varchar(length=100, null=True, default=None, index=True)
    channel = Varchar(length=32, index=True)
    address = Varchar(length=300, default="")
    district = Varchar(length=100, default="")
    city = Varchar(length=100, default="")
    postcode = Varchar(length=20, default="")
    country = Varchar(length=2, default="")
    lat = DoublePrecision()
    lng = DoublePrecision()
    # {"kind": "circle", "radius_m": 80} or {"kind": "polygon", "polygon": <GeoJSON Polygon>}
    geofence = JSON()
    # {"mon": [["08:00", "12:00"], ["14:00", "20:00"]], ...}; a missing weekday is closed.
    opening_hours = JSON(null=True, default=None)
    # {"kind": "weekly", "weekdays": ["mon"], "every_weeks": 1} or {"kind": "monthly", "times": 1, ...}
    visit_frequency = JSON()
    visit_minutes = Integer(default=30)
    # A visit shorter than this is flagged (backend/visits/flags.py).
    min_visit_minutes = Integer(default=5)
    priority = Integer(default=3)
    assigned_rep_id = ForeignKey(User, null=True, index=True, on_delete=OnDelete.set_null)
    territory_id = ForeignKey(Territory, null=True, index=True, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    created_at = created_column()
    updated_at = updated_column()


class StoreFence(Table):
    """A store's location and fence from `valid_from` on: check-ins are judged with the fence of their time."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=False, index=True, on_delete=OnDelete.cascade)
    valid_from = Timestamptz()
    lat = DoublePrecision()
    lng = DoublePrecision()
    geofence = JSON()
