from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from backend.tables_base import created_column, id_column, updated_column


class Organization(Table):
    """A tenant. Every other row belongs to exactly one organisation."""

    id = id_column()
    name = Varchar(length=200)
    time_zone = Varchar(length=64, default="UTC")
    locale = Varchar(length=16, default="en")
    currency = Varchar(length=3, default="USD")
    # Thresholds for judging check-ins (backend/visits/rules.py VisitRules); {} means the defaults.
    visit_rules = JSON(default={})
    planning_rules = JSON(default={})
    # Score weights and alert thresholds of shelf inspections (backend/inspections/rules.py InspectionRules).
    inspection_rules = JSON(default={})
    created_at = created_column()
    updated_at = updated_column()


class User(Table, tablename="app_user"):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    # Stored lower-cased; unique across the whole system because login is by email alone.
    email = Varchar(length=254, unique=True)
    password_hash = Varchar(length=256)
    name = Varchar(length=200)
    role = Varchar(length=16, index=True)
    supervisor_id: ForeignKey["User"] = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    time_zone = Varchar(length=64, null=True, default=None)
    locale = Varchar(length=16, null=True, default=None)
    # Local times between which non-urgent notifications wait (null: none); across midnight when start > end.
    quiet_start = Varchar(length=5, null=True, default="21:00")
    quiet_end = Varchar(length=5, null=True, default="07:00")
    home_lat = DoublePrecision(null=True, default=None)
    home_lng = DoublePrecision(null=True, default=None)
    active = Boolean(default=True)
    # Tokens issued before this instant are refused (password change, deactivation).
    tokens_valid_after = Timestamptz(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()
