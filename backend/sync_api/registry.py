"""The synced tables of schema version 1: their columns and value types, who writes them, and their scope.

This is the server's half of docs/sync-protocol.md section 8. A column's type is a msgspec type; a change's value
must convert to it strictly. The REST schemas define the same fields; the types here are the JSON forms.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from piccolo.table import Table

from backend.auth.principal import Role
from backend.catalog.schemas import Channel
from backend.catalog.tables import Assortment, Product
from backend.fields import Latitude, Longitude, MinorUnits
from backend.inspections.ids import item_id
from backend.inspections.tables import Inspection, InspectionItem
from backend.stores.schemas import Geofence, OpeningHours, VisitFrequency
from backend.stores.tables import Store
from backend.visits.tables import Photo, Reminder, Visit

SCHEMA_VERSIONS = frozenset({1})

Instant = Annotated[dt.datetime, msgspec.Meta(tz=True)]
Text = Annotated[str, msgspec.Meta(max_length=5000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Accuracy = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
FixAge = Annotated[float, msgspec.Meta(ge=0, le=30 * 86_400)]
VisitState = Literal["planned", "checked_in", "checked_out", "skipped", "missed"]
Outcome = Literal["order_taken", "no_order", "store_closed", "manager_absent", "other"]


@dataclass(frozen=True)
class SyncedTable:
    name: str
    columns: dict[str, Any]
    # Roles that may write this table's rows over sync, and then only rows they own.
    writable_by: frozenset[Role] = frozenset()
    server_owned: frozenset[str] = frozenset()
    # Fields a new row must bring along with its `_cl: 1`.
    required: frozenset[str] = frozenset()
    org_wide: bool = False
    owner_column: str | None = None
    territory_column: str | None = None
    # column -> table whose row it names; the row must be in the caller's scope.
    references: dict[str, str] = field(default_factory=dict)
    # The domain table that holds the rows for REST; rows written over sync are projected into it.
    source: type[Table] | None = None
    # Columns a row keeps from its creation: a change to another value is refused.
    immutable: frozenset[str] = frozenset()
    # column -> (reference column, column of the row it names) that must hold the same value.
    agrees: dict[str, tuple[str, str]] = field(default_factory=dict)
    # For rows whose id every device derives from their fields: the id a new row must have.
    derived_id: Callable[[dict[str, Any]], str] | None = None

    @property
    def projected(self) -> bool:
        """Rows written over sync are projected into the source table (only tables clients may write)."""
        return bool(self.writable_by) and self.source is not None


PRODUCT = SyncedTable(
    name="product",
    source=Product,
    org_wide=True,
    columns={
        "code": str,
        "name": str,
        "brand": str,
        "category": str,
        "pack_size": str,
        "barcode": str | None,
        "rrp_minor": int | None,
        "own_brand": bool,
        "active": bool,
    },
)

ASSORTMENT = SyncedTable(
    name="assortment",
    source=Assortment,
    org_wide=True,
    columns={
        "product_id": uuid.UUID,
        "store_id": uuid.UUID | None,
        "chain": str | None,
        "channel": Channel | None,
        "min_facings": int,
        "rrp_minor": int | None,
        "price_tolerance_pct": float,
    },
)

STORE = SyncedTable(
    name="store",
    source=Store,
    owner_column="assigned_rep_id",
    territory_column="territory_id",
    columns={
        "code": str,
        "name": str,
        "chain": str | None,
        "channel": Channel,
        "address": str,
        "district": str,
        "city": str,
        "postcode": str,
        "country": str,
        "lat": Latitude,
        "lng": Longitude,
        "geofence": Geofence,
        "opening_hours": OpeningHours | None,
        "visit_frequency": VisitFrequency,
        "visit_minutes": int,
        "min_visit_minutes": int,
        "priority": int,
        "assigned_rep_id": uuid.UUID | None,
        "territory_id": uuid.UUID | None,
        "active": bool,
    },
)

VISIT = SyncedTable(
    name="visit",
    writable_by=frozenset({"rep"}),
    owner_column="rep_id",
    server_owned=frozenset(
        {
            "rep_id",
            "verdict",
            "verdict_distance_m",
            "check_out_verdict",
            "check_out_distance_m",
            "flags",
            "received_at",
            "planned_seq",
            "planned_arrival_at",
            "planned_departure_at",
        }
    ),
    required=frozenset({"store_id", "state"}),
    references={"store_id": "store"},
    source=Visit,
    columns={
        "rep_id": uuid.UUID,
        "store_id": uuid.UUID,
        "state": VisitState,
        "planned": bool,
        "planned_date": dt.date | None,
        "planned_seq": int | None,
        "planned_arrival_at": Instant | None,
        "planned_departure_at": Instant | None,
        "check_in_at": Instant | None,
        "check_in_lat": Latitude | None,
        "check_in_lng": Longitude | None,
        "check_in_accuracy_m": Accuracy | None,
        "check_in_fix_age_s": FixAge | None,
        "check_out_at": Instant | None,
        "check_out_lat": Latitude | None,
        "check_out_lng": Longitude | None,
        "check_out_accuracy_m": Accuracy | None,
        "check_out_fix_age_s": FixAge | None,
        "verdict": str | None,
        "verdict_distance_m": float | None,
        "check_out_verdict": str | None,
        "check_out_distance_m": float | None,
        "flags": list[Any],
        "received_at": Instant | None,
        "outcome": Outcome | None,
        "notes": Text,
        "next_steps": Text,
        "order_value_minor": MinorUnits | None,
        "skip_reason": Short | None,
    },
)

PHOTO = SyncedTable(
    name="photo",
    writable_by=frozenset({"rep"}),
    server_owned=frozenset({"uploaded", "content_type", "size_bytes"}),
    required=frozenset({"visit_id", "sha256"}),
    references={"visit_id": "visit"},
    source=Photo,
    columns={
        "visit_id": uuid.UUID,
        "sha256": Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}\Z")],
        "taken_at": Instant | None,
        "lat": Latitude | None,
        "lng": Longitude | None,
        "uploaded": bool,
        "content_type": str | None,
        "size_bytes": int | None,
    },
)

REMINDER = SyncedTable(
    name="reminder",
    writable_by=frozenset({"rep", "supervisor", "admin"}),
    owner_column="user_id",
    server_owned=frozenset({"user_id", "kind"}),
    required=frozenset({"text", "due_at"}),
    references={"store_id": "store", "visit_id": "visit"},
    source=Reminder,
    columns={
        "user_id": uuid.UUID,
        "store_id": uuid.UUID | None,
        "visit_id": uuid.UUID | None,
        "kind": Literal["reminder", "alert"],
        "text": Annotated[str, msgspec.Meta(min_length=1, max_length=1000)],
        "due_at": Instant,
        # withdrawn: the server's own reminder whose cause went away before it was sent.
        "status": Literal["pending", "sent", "dismissed", "withdrawn"],
        "urgent": bool,
    },
)

INSPECTION = SyncedTable(
    name="inspection",
    writable_by=frozenset({"rep"}),
    owner_column="rep_id",
    server_owned=frozenset(
        {"rep_id", "oos_rate", "assortment_compliance", "facings_compliance", "price_compliance", "share_of_shelf"}
        | {"score"}
    ),
    required=frozenset({"visit_id", "store_id", "started_at"}),
    references={"visit_id": "visit", "store_id": "store"},
    immutable=frozenset({"visit_id", "store_id"}),
    agrees={"store_id": ("visit_id", "store_id")},
    source=Inspection,
    columns={
        "rep_id": uuid.UUID,
        "visit_id": uuid.UUID,
        "store_id": uuid.UUID,
        "started_at": Instant,
        "oos_rate": float | None,
        "assortment_compliance": float | None,
        "facings_compliance": float | None,
        "price_compliance": float | None,
        "share_of_shelf": float | None,
        "score": float | None,
    },
)

Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]

INSPECTION_ITEM = SyncedTable(
    name="inspection_item",
    writable_by=frozenset({"rep"}),
    server_owned=frozenset(
        {"must_stock", "min_facings", "reference_price_minor", "price_tolerance_pct", "price_deviation_pct"}
        | {"price_ok"}
    ),
    required=frozenset({"inspection_id", "product_id"}),
    references={"inspection_id": "inspection", "product_id": "product"},
    immutable=frozenset({"inspection_id", "product_id"}),
    derived_id=lambda fields: str(item_id(fields["inspection_id"], fields["product_id"])),
    source=InspectionItem,
    columns={
        "inspection_id": uuid.UUID,
        "product_id": uuid.UUID,
        "present": bool,
        "quantity": Count | None,
        "facings": Annotated[int, msgspec.Meta(ge=0, le=1_000)] | None,
        "shelf_price_minor": MinorUnits | None,
        "promotion": bool,
        "expiry_date": dt.date | None,
        "note": Text,
        "photos": Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)],
        "must_stock": bool,
        "min_facings": int | None,
        "reference_price_minor": int | None,
        "price_tolerance_pct": float | None,
        "price_deviation_pct": float | None,
        "price_ok": bool | None,
    },
)

# In dependency order: a row is projected after the rows it names.
TABLES: dict[str, SyncedTable] = {
    t.name: t for t in (PRODUCT, ASSORTMENT, STORE, VISIT, PHOTO, INSPECTION, INSPECTION_ITEM, REMINDER)
}
