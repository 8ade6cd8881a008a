from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from backend.orgs.tables import Organization, User
from backend.planning.tables import RouteStop
from backend.stores.tables import Store
from backend.tables_base import created_column, id_column, updated_column


class Visit(Table):
    """A rep's visit to a store. Made on the phone (client UUIDv7), usually offline; judged by the server."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    rep_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=False, index=True, on_delete=OnDelete.restrict)
    route_stop_id = ForeignKey(RouteStop, null=True, on_delete=OnDelete.set_null)
    # planned | checked_in | checked_out | skipped | missed
    state = Varchar(length=16, default="planned", index=True)
    planned = Boolean(default=False)
    # The local calendar day the visit was planned for (the rep's time zone).
    planned_date = Date(null=True, default=None)
    # Where the day's route puts it: order and expected times (server-owned, synced so the phone shows the route).
    planned_seq = Integer(null=True, default=None)
    planned_arrival_at = Timestamptz(null=True, default=None)
    planned_departure_at = Timestamptz(null=True, default=None)
    check_in_at = Timestamptz(null=True, default=None, index=True)
    check_in_lat = DoublePrecision(null=True, default=None)
    check_in_lng = DoublePrecision(null=True, default=None)
    check_in_accuracy_m = DoublePrecision(null=True, default=None)
    # Seconds between the fix and the check-in: 0 for a fresh fix, more for a cached one.
    check_in_fix_age_s = DoublePrecision(null=True, default=None)
    check_out_at = Timestamptz(null=True, default=None)
    check_out_lat = DoublePrecision(null=True, default=None)
    check_out_lng = DoublePrecision(null=True, default=None)
    check_out_accuracy_m = DoublePrecision(null=True, default=None)
    check_out_fix_age_s = DoublePrecision(null=True, default=None)
    # Server-owned: geofence verdicts (inside | outside | uncertain) and distances, plausibility flags
    # ([{"code", "message"}]), and when the check-in first reached the server.
    verdict = Varchar(length=16, null=True, default=None)
    verdict_distance_m = DoublePrecision(null=True, default=None)
    check_out_verdict = Varchar(length=16, null=True, default=None)
    check_out_distance_m = DoublePrecision(null=True, default=None)
    flags = JSON(default=[])
    received_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=32, null=True, default=None)
    notes = Text(default="")
    next_steps = Text(default="")
    order_value_minor = Integer(null=True, default=None)
    skip_reason = Varchar(length=200, null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class Photo(Table):
    """Metadata of a photo taken in a visit; the blob is stored content-addressed by its SHA-256."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    visit_id = ForeignKey(Visit, null=False, index=True, on_delete=OnDelete.restrict)
    sha256 = Varchar(length=64, index=True)
    content_type = Varchar(length=32, null=True, default=None)
    size_bytes = Integer(null=True, default=None)
    taken_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lng = DoublePrecision(null=True, default=None)
    uploaded = Boolean(default=False)
    created_at = created_column()


class Reminder(Table):
    """A follow-up reminder for a user, or an alert for a supervisor; delivered by the push worker."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=True, on_delete=OnDelete.set_null)
    visit_id = ForeignKey(Visit, null=True, on_delete=OnDelete.set_null)
    # reminder | alert
    kind = Varchar(length=16, default="reminder")
    text = Text()
    due_at = Timestamptz(index=True)
    # pending | sent | dismissed | withdrawn
    status = Varchar(length=16, default="pending", index=True)
    urgent = Boolean(default=False)
    # Server-only delivery state (backend/push): held back until then by the user's quiet hours; when it went out.
    deliver_after = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()
