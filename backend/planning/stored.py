"""Stored plans: writing a day's solution as a route plan, its stops and planned visits; reading plans back.

Runs inside the caller's write transaction. Planned visits are recorded as server changes (backend/sync_api/
record.py), so the rep's phone receives the day's route, in order and with times, through sync.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from backend.auth.principal import Principal
from backend.db import json_value
from backend.errors import NotFound
from backend.orgs.teams import team_rep_ids
from backend.planning import schemas as s
from backend.planning.build import PlanStore, Rep, at_local
from backend.planning.problem import Solution
from backend.planning.tables import RoutePlan, RouteStop
from backend.stores.tables import Store
from backend.sync_api import versions
from backend.sync_api.record import record_delete, record_domain
from backend.tables_base import new_id
from backend.visits.tables import Visit


def _bounds(day: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    return at_local(day, 0, zone), at_local(day + dt.timedelta(days=1), 0, zone)


async def day_visits(org_id: uuid.UUID, rep: Rep, day: dt.date) -> list[dict[str, Any]]:
    """The rep's visits of the day: planned for it, or checked in during it (local time)."""
    low, high = _bounds(day, rep.time_zone)
    return await (
        Visit.select(Visit.id, Visit.store_id, Visit.state, Visit.check_in_at, Visit.check_out_at)
        .where(
            (Visit.org_id == org_id)
            & (Visit.rep_id == rep.id)
            & (
                (Visit.planned_date == day)
                | (Visit.check_in_at.is_not_null() & (Visit.check_in_at >= low) & (Visit.check_in_at < high))
            )
        )
        .run()
    )


async def save_day(
    org_id: uuid.UUID,
    rep: Rep,
    day: dt.date,
    start: tuple[float, float],
    stores: Sequence[PlanStore],
    done: Sequence[dict[str, Any]],
    solution: Solution,
    warning: str | None,
    source: str,
    with_unassigned: bool = True,
) -> uuid.UUID:
    """Replace the rep's plan for the day with `solution`; returns the plan's id."""
    # Two plans of one rep's day saved at once (a double tap, a supervisor and the rep) must not both see no plan
    # and both insert one: the organisation's sync lock, which recording the planned visits takes anyway, orders
    # them, and the second replaces the first.
    await versions.lock(org_id)
    zone = rep.time_zone
    by_id = {str(st.id): st for st in stores}
    route = next((r for r in solution.routes if r.vehicle == str(rep.id)), None)
    stops = [stop for stop in route.stops if stop.kind == "job"] if route else []
    breaks = [
        {"begin_at": at_local(day, b.begin, zone).isoformat(), "end_at": at_local(day, b.departure, zone).isoformat()}
        for b in (route.stops if route else [])
        if b.kind == "break"
    ]
    unassigned = [
        {
            "store_id": u.id,
            "store_name": by_id[u.id].name if u.id in by_id else "",
            "reason": u.reason,
            "detail": u.detail,
        }
        for u in (solution.unassigned if with_unassigned else [])
    ]
    values: dict[Any, Any] = {
        RoutePlan.status: "published",
        RoutePlan.total_travel_minutes: round((route.travel_s if route else 0) / 60, 1),
        RoutePlan.total_km: round((route.distance_m if route else 0) / 1000, 2),
        RoutePlan.unassigned: unassigned,
        RoutePlan.details: {"start": {"lat": start[0], "lng": start[1]}, "breaks": breaks},
        RoutePlan.solver: solution.solver,
        RoutePlan.solve_ms: solution.solve_ms,
        RoutePlan.travel_source: source,
        RoutePlan.warning: warning[:300] if warning else None,
    }
    existing = await (
        RoutePlan.select(RoutePlan.id)
        .where((RoutePlan.org_id == org_id) & (RoutePlan.rep_id == rep.id) & (RoutePlan.date == day))
        .first()
        .run()
    )
    if existing:
        plan_id = existing["id"]
        old_stops = [r["id"] for r in await RouteStop.select(RouteStop.id).where(RouteStop.plan_id == plan_id).run()]
        if old_stops:
            await Visit.update({Visit.route_stop_id: None}).where(Visit.route_stop_id.is_in(old_stops)).run()
            await RouteStop.delete().where(RouteStop.plan_id == plan_id).run()
        await RoutePlan.update(values).where(RoutePlan.id == plan_id).run()
    else:
        plan_id = new_id()
        row = RoutePlan(id=plan_id, org_id=org_id, rep_id=rep.id, date=day)
        for column, value in values.items():
            setattr(row, column._meta.name, value)
        await RoutePlan.insert(row).run()

    rows: list[RouteStop] = []
    links: list[tuple[uuid.UUID, uuid.UUID]] = []  # done visits and their stops, linked once the stops exist
    seq = 0
    for visit in sorted(done, key=lambda v: v["check_in_at"] or at_local(day, 0, zone)):
        seq += 1
        stop_id = new_id()
        arrived = visit["check_in_at"] or at_local(day, 0, zone)
        rows.append(
            RouteStop(
                id=stop_id,
                org_id=org_id,
                plan_id=plan_id,
                store_id=visit["store_id"],
                seq=seq,
                arrive_at=arrived,
                depart_at=visit["check_out_at"] or arrived,
            )
        )
        links.append((visit["id"], stop_id))
    planned: dict[uuid.UUID, dict[str, Any]] = {
        v["store_id"]: v
        for v in await Visit.select(Visit.id, Visit.store_id)
        .where(
            (Visit.org_id == org_id)
            & (Visit.rep_id == rep.id)
            & (Visit.planned_date == day)
            & (Visit.state == "planned")
        )
        .run()
    }
    visits_new: list[Visit] = []
    touched: list[tuple[uuid.UUID, uuid.UUID, dict[Any, Any]]] = []
    for stop in stops:
        seq += 1
        store_id = uuid.UUID(stop.id)
        stop_id = new_id()
        arrive, depart = at_local(day, stop.arrival, zone), at_local(day, stop.departure, zone)
        rows.append(
            RouteStop(
                id=stop_id,
                org_id=org_id,
                plan_id=plan_id,
                store_id=store_id,
                seq=seq,
                arrive_at=arrive,
                depart_at=depart,
                travel_minutes=round(stop.travel_s / 60, 1),
                travel_km=round(stop.distance_m / 1000, 2),
            )
        )
        fields: dict[Any, Any] = {
            Visit.planned: True,
            Visit.planned_date: day,
            Visit.planned_seq: seq,
            Visit.planned_arrival_at: arrive,
            Visit.planned_departure_at: depart,
        }
        kept = planned.pop(store_id) if store_id in planned else None
        if kept is not None:
            touched.append((kept["id"], stop_id, fields))
        else:
            visit_id = new_id()
            visits_new.append(
                Visit(
                    id=visit_id,
                    org_id=org_id,
                    rep_id=rep.id,
                    store_id=store_id,
                    state="planned",
                    planned=True,
                    planned_date=day,
                    planned_seq=seq,
                    planned_arrival_at=arrive,
                    planned_departure_at=depart,
                )
            )
            touched.append((visit_id, stop_id, {}))
    if rows:
        await RouteStop.insert(*rows).run()
    if visits_new:
        await Visit.insert(*visits_new).run()
    for visit_id, stop_id in links:
        await Visit.update({Visit.route_stop_id: stop_id}).where(Visit.id == visit_id).run()
    for visit_id, stop_id, fields in touched:
        await Visit.update({**fields, Visit.route_stop_id: stop_id}).where(Visit.id == visit_id).run()
    # Planned for the day, no longer in its plan: gone from the rep's phone too (never a visit that started).
    for visit in planned.values():
        await record_delete(org_id, "visit", visit["id"])
        await Visit.delete().where(Visit.id == visit["id"]).run()
    await record_domain(org_id, "visit", [visit_id for visit_id, _, _ in touched])
    return plan_id


async def load_plan(org_id: uuid.UUID, plan_id: uuid.UUID) -> s.Plan:
    plan = await RoutePlan.select().where((RoutePlan.org_id == org_id) & (RoutePlan.id == plan_id)).first().run()
    if plan is None:
        raise NotFound("No such plan", code="planning.no_such_plan")
    return (await _plans(org_id, [plan]))[0]


async def _plans(org_id: uuid.UUID, plans: list[dict[str, Any]]) -> list[s.Plan]:
    ids = [p["id"] for p in plans] or [uuid.UUID(int=0)]
    stops = await RouteStop.select().where(RouteStop.plan_id.is_in(ids)).order_by(RouteStop.seq).run()
    store_ids = list({st["store_id"] for st in stops}) or [uuid.UUID(int=0)]
    stores = {
        r["id"]: r
        for r in await Store.select(Store.id, Store.name, Store.lat, Store.lng, Store.visit_minutes)
        .where((Store.org_id == org_id) & Store.id.is_in(store_ids))
        .run()
    }
    stop_ids = [st["id"] for st in stops] or [uuid.UUID(int=0)]
    visit_of = {
        r["route_stop_id"]: r["id"]
        for r in await Visit.select(Visit.id, Visit.route_stop_id).where(Visit.route_stop_id.is_in(stop_ids)).run()
    }
    out = []
    for plan in plans:
        details = json_value(plan["details"]) or {}
        mine = [st for st in stops if st["plan_id"] == plan["id"]]
        planned_stops = []
        for st in mine:
            store = stores[st["store_id"]]
            arrive, depart = st["arrive_at"], st["depart_at"] or st["arrive_at"]
            begin = max(arrive, depart - dt.timedelta(minutes=int(store["visit_minutes"])))
            planned_stops.append(
                s.PlannedStop(
                    seq=st["seq"],
                    store_id=st["store_id"],
                    store_name=store["name"],
                    lat=store["lat"],
                    lng=store["lng"],
                    visit_id=visit_of.get(st["id"]),
                    arrive_at=arrive,
                    begin_at=begin,
                    depart_at=depart,
                    travel_minutes=st["travel_minutes"],
                    travel_km=st["travel_km"],
                )
            )
        out.append(
            s.Plan(
                id=plan["id"],
                rep_id=plan["rep_id"],
                date=plan["date"],
                status=plan["status"],
                start=msgspec.convert(details["start"], s.Position) if details.get("start") else None,
                stops=planned_stops,
                breaks=msgspec.convert(details.get("breaks", []), list[s.PlannedBreak]),
                unassigned=msgspec.convert(json_value(plan["unassigned"]) or [], list[s.UnplannedStore]),
                total_travel_minutes=plan["total_travel_minutes"],
                total_km=plan["total_km"],
                solver=plan["solver"],
                solve_ms=plan["solve_ms"],
                travel_source=plan["travel_source"],
                warning=plan["warning"],
            )
        )
    return out


async def find_plans(
    principal: Principal, rep_id: uuid.UUID | None, date_from: dt.date, date_to: dt.date
) -> list[s.Plan]:
    """The caller's reps' plans (one rep's with `rep_id`) from `date_from` to `date_to`."""
    reps = set(await team_rep_ids(principal))
    if rep_id is not None:
        if rep_id not in reps:
            raise NotFound("No such rep in your team", code="planning.no_such_rep")
        reps = {rep_id}
    plans = await (
        RoutePlan.select()
        .where(
            (RoutePlan.org_id == principal.org_id)
            & RoutePlan.rep_id.is_in(list(reps) or [uuid.UUID(int=0)])
            & (RoutePlan.date >= date_from)
            & (RoutePlan.date <= date_to)
        )
        .order_by(RoutePlan.date)
        .run()
    )
    return await _plans(principal.org_id, plans)


async def find_plan(principal: Principal, plan_id: uuid.UUID) -> s.Plan:
    plan = (
        await RoutePlan.select().where((RoutePlan.org_id == principal.org_id) & (RoutePlan.id == plan_id)).first().run()
    )
    if plan is None or plan["rep_id"] not in set(await team_rep_ids(principal)):
        raise NotFound("No such plan", code="planning.no_such_plan")
    return (await _plans(principal.org_id, [plan]))[0]
