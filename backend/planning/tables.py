from piccolo.columns import JSON, Date, DoublePrecision, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization, User
from backend.stores.tables import Store
from backend.tables_base import created_column, id_column, updated_column


class RoutePlan(Table):
    """A rep's plan for one day."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    rep_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    date = Date(index=True)
    # draft | published
    status = Varchar(length=16, default="published")
    total_travel_minutes = DoublePrecision(default=0.0)
    total_km = DoublePrecision(default=0.0)
    # What the planner said: stores it could not fit and why ([{store_id, reason, detail}]), where the day
    # started and its breaks, how it was solved, and a warning for the planner's user (e.g. OSRM was down).
    unassigned = JSON(default=[])
    details = JSON(default={})  # {"start": {lat, lng} | null, "breaks": [{begin_at, end_at}]}
    solver = Varchar(length=16, default="")
    solve_ms = DoublePrecision(default=0.0)
    travel_source = Varchar(length=16, default="estimate")
    warning = Varchar(length=300, null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class RouteStop(Table):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    plan_id = ForeignKey(RoutePlan, null=False, index=True, on_delete=OnDelete.restrict)
    store_id = ForeignKey(Store, null=False, on_delete=OnDelete.restrict)
    seq = Integer()
    arrive_at = Timestamptz(null=True, default=None)
    depart_at = Timestamptz(null=True, default=None)
    travel_minutes = DoublePrecision(default=0.0)
    travel_km = DoublePrecision(default=0.0)
    created_at = created_column()
