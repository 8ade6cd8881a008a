"""Which inspections a report reads: the caller's organisation and role, the local date range, the filters.

An admin reads the whole organisation; a supervisor the inspections of their team's reps and every inspection at
a store of a territory they supervise; a rep their own. A filter must name something the caller can see, directly
(a rep of their team, a store they see in GET /stores, a territory they supervise) or through an inspection in
their scope; anything else, another organisation's above all, is a 404 that says no more than "no such".
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from backend import db
from backend.auth.principal import Principal
from backend.errors import Invalid, NotFound
from backend.fields import EARLIEST_DAY, LATEST_DAY
from backend.inspections.report_schemas import ReportFilter
from backend.inspections.reports._sql import AT, Sql, all_of, one_of, sql
from backend.orgs.tables import Organization
from backend.orgs.teams import team_rep_ids
from backend.stores.services import visible_stores
from backend.stores.tables import Store, Territory
from backend.visits.team import MAX_REPORT_DAYS


@dataclass(frozen=True)
class Scope:
    """The inspections (alias `i`, with its store as `s` when `with_store`) a report may read, as SQL."""

    org_id: uuid.UUID
    time_zone: str
    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime
    where: Sql
    with_store: bool

    def inspections(self, *conditions: Sql | str) -> Sql:
        """`FROM ... WHERE ...` over the inspections in scope."""
        store = "JOIN store s ON s.id = i.store_id" if self.with_store else ""
        return sql("FROM inspection i", store, "WHERE", all_of([self.where, *conditions]))

    def items(self, *conditions: Sql | str) -> Sql:
        """`FROM ... WHERE ...` over the items (alias `it`) of the inspections in scope.

        CROSS JOIN fixes SQLite's join order (https://sqlite.org/optoverview.html#crossjoin): the inspections in
        scope outside, their items through the inspection_id index inside. Left to itself, SQLite walks the whole
        item table in product_id index order for a GROUP BY product and looks each inspection up: 3.4 s instead of
        0.9 s for 900,000 items (bench/inspection_report.py). PostgreSQL plans CROSS JOIN ... WHERE as any join.
        """
        store = "CROSS JOIN store s" if self.with_store else ""
        joins = ["s.id = i.store_id"] if self.with_store else []
        return sql(
            "FROM inspection i",
            store,
            "CROSS JOIN inspection_item it WHERE",
            all_of([*joins, "it.inspection_id = i.id", Sql("it.org_id = {}", (self.org_id,)), self.where, *conditions]),
        )


EARLIEST, LATEST = EARLIEST_DAY, LATEST_DAY


def check_range(first: dt.date, last: dt.date) -> None:
    """Raise Invalid naming the field unless first..last is a range a report may cover."""
    for name, day in (("date_from", first), ("date_to", last)):
        if not EARLIEST <= day <= LATEST:
            raise Invalid.field(name, f"must be between {EARLIEST} and {LATEST}", code="report.bad_range")
    if last < first:
        raise Invalid.field("date_to", "must not be before date_from", code="report.bad_range")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise Invalid.field("date_to", f"the range is at most {MAX_REPORT_DAYS} days", code="report.range_too_long")


def local_midnight(day: dt.date, zone: str) -> dt.datetime:
    """The UTC instant a local day starts (zoneinfo resolves a midnight skipped or repeated by a DST change)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


async def org_time_zone(org_id: uuid.UUID) -> str:
    row = await Organization.select(Organization.time_zone).where(Organization.id == org_id).first().run()
    if row is None:
        raise NotFound("No such organisation")
    return str(row["time_zone"] or "UTC")


async def report_scope(principal: Principal, f: ReportFilter, *, needs_store: bool = False) -> Scope:
    """The scope of one report; raises Invalid for a bad range and NotFound for a filter outside the scope.
    Runs inside the report's read transaction."""
    check_range(f.date_from, f.date_to)
    zone = await org_time_zone(principal.org_id)
    team = await team_rep_ids(principal)
    role = _role_scope(principal, team)
    await _check_filters(principal, team, role, f)
    start, end = local_midnight(f.date_from, zone), local_midnight(f.date_to + dt.timedelta(days=1), zone)
    conditions = [
        Sql("i.org_id = {}", (principal.org_id,)),
        role,
        Sql(f"{AT} >= {{}} AND {AT} < {{}}", (start, end)),
    ]
    if f.rep_id is not None:
        conditions.append(Sql("i.rep_id = {}", (f.rep_id,)))
    if f.store_id is not None:
        conditions.append(Sql("i.store_id = {}", (f.store_id,)))
    if f.territory_id is not None:
        conditions.append(Sql("s.territory_id = {}", (f.territory_id,)))
    if f.chain is not None:
        conditions.append(Sql("s.chain = {}", (f.chain,)))
    with_store = needs_store or principal.is_supervisor or f.territory_id is not None or f.chain is not None
    return Scope(principal.org_id, zone, f.date_from, f.date_to, start, end, all_of(conditions), with_store)


def _role_scope(principal: Principal, team: list[uuid.UUID]) -> Sql:
    if principal.is_admin:
        return Sql("1 = 1")
    if principal.is_rep:
        return Sql("i.rep_id = {}", (principal.user_id,))
    supervised = Sql(
        "s.territory_id IN (SELECT t.id FROM territory t WHERE t.org_id = {} AND t.supervisor_id = {})",
        (principal.org_id, principal.user_id),
    )
    return sql("(", one_of("i.rep_id", team), "OR", supervised, ")")


async def _seen(principal: Principal, role: Sql, condition: Sql) -> bool:
    """Whether any inspection in the caller's scope (any date) matches `condition`."""
    query = sql(
        "SELECT 1 AS found FROM inspection i JOIN store s ON s.id = i.store_id WHERE",
        all_of([Sql("i.org_id = {}", (principal.org_id,)), role, condition]),
        "LIMIT 1",
    )
    return bool(await db.fetch(query.text, *query.args))


async def _check_filters(principal: Principal, team: list[uuid.UUID], role: Sql, f: ReportFilter) -> None:
    if (
        f.rep_id is not None
        and f.rep_id not in team
        and not await _seen(principal, role, Sql("i.rep_id = {}", (f.rep_id,)))
    ):
        raise NotFound("No such rep in your scope", code="report.no_such_rep")
    if f.store_id is not None:
        visible = await visible_stores(principal) & (Store.id == f.store_id)
        if not await Store.exists().where(visible).run() and not await _seen(
            principal, role, Sql("i.store_id = {}", (f.store_id,))
        ):
            raise NotFound("No such store in your scope", code="report.no_such_store")
    if f.territory_id is not None:
        condition = (Territory.id == f.territory_id) & (Territory.org_id == principal.org_id)
        if not principal.is_admin:
            condition &= Territory.supervisor_id == principal.user_id
        if not await Territory.exists().where(condition).run() and not await _seen(
            principal, role, Sql("s.territory_id = {}", (f.territory_id,))
        ):
            raise NotFound("No such territory in your scope", code="report.no_such_territory")
