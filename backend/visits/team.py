"""The supervisor's views of their team: the day (planned against actual), live positions, and reports.

Scoped like everything else: a supervisor sees their team's reps, an admin every rep of the organisation, and a
rep or territory outside that scope is a 404. Days are local days in the organisation's time zone (a rep's own
time zone when set), so "today" means the same to the supervisor and the rep.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import uuid
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend.auth.principal import Principal
from backend.db import json_value
from backend.errors import NotFound
from backend.geo import distance_m
from backend.orgs.tables import Organization, User
from backend.orgs.teams import team_rep_ids
from backend.planning.tables import RoutePlan, RouteStop
from backend.stores.tables import Store, Territory
from backend.tables_base import utcnow
from backend.visits import schemas as s
from backend.visits.flags import Flag
from backend.visits.tables import Photo, Visit

DONE = ("checked_in", "checked_out")
OUTCOMES = ("order_taken", "no_order", "store_closed", "manager_absent", "other")
MAX_REPORT_DAYS = 366


class Rep(msgspec.Struct):
    id: uuid.UUID
    name: str
    time_zone: str


async def team(principal: Principal, rep_id: uuid.UUID | None = None) -> list[Rep]:
    """The reps the caller supervises (all of them for an admin), or just `rep_id` if it is one of them."""
    ids = set(await team_rep_ids(principal))
    if rep_id is not None:
        if rep_id not in ids:
            raise NotFound("No such rep in your team", code="team.no_such_rep")
        ids = {rep_id}
    if not ids:
        return []
    org = await Organization.select(Organization.time_zone).where(Organization.id == principal.org_id).first().run()
    default_zone = org["time_zone"] if org else "UTC"
    rows = (
        await User.select(User.id, User.name, User.time_zone)
        .where((User.org_id == principal.org_id) & User.id.is_in(list(ids)))
        .order_by(User.name)
        .run()
    )
    return [Rep(r["id"], r["name"], r["time_zone"] or default_zone) for r in rows]


async def _territory_stores(principal: Principal, territory_id: uuid.UUID | None) -> set[uuid.UUID] | None:
    if territory_id is None:
        return None
    condition = (Territory.id == territory_id) & (Territory.org_id == principal.org_id)
    if principal.is_supervisor:
        condition &= Territory.supervisor_id == principal.user_id
    if not await Territory.exists().where(condition).run():
        raise NotFound("No such territory", code="team.no_such_territory")
    rows = (
        await Store.select(Store.id)
        .where((Store.org_id == principal.org_id) & (Store.territory_id == territory_id))
        .run()
    )
    return {r["id"] for r in rows}


def _bounds(day: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def _local_date(row: dict[str, Any], zone: str) -> dt.date | None:
    if row["check_in_at"] is not None:
        return row["check_in_at"].astimezone(ZoneInfo(zone)).date()
    return row["planned_date"]


async def _visits(org_id: uuid.UUID, reps: list[Rep], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """The reps' visits whose local day (check-in, else planned date) lies in [first, last]."""
    if not reps:
        return []
    low = min(_bounds(first, r.time_zone)[0] for r in reps)
    high = max(_bounds(last, r.time_zone)[1] for r in reps)
    in_time = (Visit.check_in_at >= low) & (Visit.check_in_at < high)
    by_plan = Visit.check_in_at.is_null() & (Visit.planned_date >= first) & (Visit.planned_date <= last)
    rows = (
        await Visit.select()
        .where((Visit.org_id == org_id) & Visit.rep_id.is_in([r.id for r in reps]) & (in_time | by_plan))
        .order_by(Visit.check_in_at)
        .run()
    )
    zones = {r.id: r.time_zone for r in reps}
    return [r for r in rows if first <= (_local_date(r, zones[r["rep_id"]]) or first) <= last]


async def _stores(org_id: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    if not ids:
        return {}
    rows = (
        await Store.select(Store.id, Store.name, Store.lat, Store.lng, Store.territory_id)
        .where((Store.org_id == org_id) & Store.id.is_in(list(ids)))
        .run()
    )
    return {r["id"]: r for r in rows}


def _flags(raw: Any) -> list[Flag]:
    return msgspec.convert(json_value(raw) or [], list[Flag])


def _fixed(row: dict[str, Any], kind: str) -> s.Fixed | None:
    at, lat, lng = row[f"{kind}_at"], row[f"{kind}_lat"], row[f"{kind}_lng"]
    if at is None or lat is None or lng is None:
        return None
    verdict_key, distance_key = (
        ("verdict", "verdict_distance_m")
        if kind == "check_in"
        else (
            "check_out_verdict",
            "check_out_distance_m",
        )
    )
    accuracy, age = row[f"{kind}_accuracy_m"], row[f"{kind}_fix_age_s"]
    return s.Fixed(at, lat, lng, accuracy, row[verdict_key], row[distance_key], age)


async def _photos(org_id: uuid.UUID, visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[s.PhotoRef]]:
    found: dict[uuid.UUID, list[s.PhotoRef]] = defaultdict(list)
    if not visit_ids:
        return found
    rows = (
        await Photo.select()
        .where((Photo.org_id == org_id) & Photo.visit_id.is_in(visit_ids))
        .order_by(Photo.taken_at)
        .run()
    )
    for r in rows:
        url = f"/api/v1/photos/{r['sha256']}"
        found[r["visit_id"]].append(s.PhotoRef(r["sha256"], r["taken_at"], r["lat"], r["lng"], r["uploaded"], url))
    return found


def summary(row: dict[str, Any], store: dict[str, Any], photos: list[s.PhotoRef] | None = None) -> s.VisitSummary:
    check_in, check_out = _fixed(row, "check_in"), _fixed(row, "check_out")
    minutes = (check_out.at - check_in.at).total_seconds() / 60 if check_in and check_out else None
    return s.VisitSummary(
        id=row["id"],
        store_id=row["store_id"],
        store_name=store.get("name", ""),
        store_lat=store.get("lat", 0.0),
        store_lng=store.get("lng", 0.0),
        state=row["state"],
        planned=row["planned"],
        check_in=check_in,
        check_out=check_out,
        minutes_in_store=round(minutes, 1) if minutes is not None else None,
        flags=_flags(row["flags"]),
        outcome=row["outcome"],
        order_value_minor=row["order_value_minor"],
        notes=row["notes"],
        next_steps=row["next_steps"],
        skip_reason=row["skip_reason"],
        received_at=row["received_at"],
        photos=photos or [],
    )


async def team_day(
    principal: Principal,
    day: dt.date,
    *,
    rep_id: uuid.UUID | None = None,
    territory_id: uuid.UUID | None = None,
    flagged_only: bool = False,
) -> s.TeamDay:
    reps = await team(principal, rep_id)
    in_territory = await _territory_stores(principal, territory_id)
    rows = await _visits(principal.org_id, reps, day, day)
    plans = (
        await RoutePlan.select(RoutePlan.id, RoutePlan.rep_id)
        .where(
            (RoutePlan.org_id == principal.org_id)
            & RoutePlan.rep_id.is_in([r.id for r in reps] or [uuid.UUID(int=0)])
            & (RoutePlan.date == day)
            & (RoutePlan.status == "published")
        )
        .run()
    )
    plan_rep = {p["id"]: p["rep_id"] for p in plans}
    stops = (
        await RouteStop.select()
        .where(RouteStop.plan_id.is_in(list(plan_rep) or [uuid.UUID(int=0)]))
        .order_by(RouteStop.seq)
        .run()
    )
    stores = await _stores(principal.org_id, {r["store_id"] for r in rows} | {st["store_id"] for st in stops})
    if in_territory is not None:
        rows = [r for r in rows if r["store_id"] in in_territory]
        stops = [st for st in stops if st["store_id"] in in_territory]
    ended = {rep.id: _bounds(day, rep.time_zone)[1] <= utcnow() for rep in reps}
    visits_of: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        visits_of[row["rep_id"]].append(row)
    stops_of: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for stop in stops:
        stops_of[plan_rep[stop["plan_id"]]].append(stop)
    photos = await _photos(principal.org_id, [r["id"] for r in rows])
    days = []
    for rep in reps:
        days.append(_rep_day(rep, visits_of[rep.id], stops_of[rep.id], stores, photos, ended[rep.id], flagged_only))
    total = s.DayTotals()
    for rep_day in days:
        for field in s.DayTotals.__struct_fields__:
            setattr(total, field, getattr(total, field) + getattr(rep_day.totals, field))
    total.minutes_in_stores, total.distance_km = round(total.minutes_in_stores, 1), round(total.distance_km, 2)
    return s.TeamDay(date=day, reps=days, totals=total)


def _rep_day(
    rep: Rep,
    rows: list[dict[str, Any]],
    stops: list[dict[str, Any]],
    stores: dict[uuid.UUID, dict[str, Any]],
    photos: dict[uuid.UUID, list[s.PhotoRef]],
    day_ended: bool,
    flagged_only: bool,
) -> s.RepDay:
    visits = [summary(r, stores.get(r["store_id"], {}), photos.get(r["id"])) for r in rows]
    by_stop = {r["route_stop_id"]: r for r in rows if r["route_stop_id"] is not None}
    by_store = {r["store_id"]: r for r in rows if r["planned"]}
    planned: list[s.PlannedStop] = []
    matched: set[uuid.UUID] = set()
    for stop in stops:
        visit = by_stop.get(stop["id"]) or by_store.get(stop["store_id"])
        state = visit["state"] if visit else ("missed" if day_ended else "planned")
        if visit:
            matched.add(visit["id"])
        store = stores.get(stop["store_id"], {})
        planned.append(
            s.PlannedStop(
                stop["seq"],
                stop["store_id"],
                store.get("name", ""),
                store.get("lat", 0.0),
                store.get("lng", 0.0),
                stop["arrive_at"],
                visit["id"] if visit else None,
                state,
            )
        )
    for row in rows:
        if row["planned"] and row["id"] not in matched:
            store = stores.get(row["store_id"], {})
            planned.append(
                s.PlannedStop(
                    len(planned) + 1,
                    row["store_id"],
                    store.get("name", ""),
                    store.get("lat", 0.0),
                    store.get("lng", 0.0),
                    None,
                    row["id"],
                    row["state"],
                )
            )
    totals = s.DayTotals(
        planned=len(planned),
        done=sum(v.state in DONE for v in visits),
        missed=sum(p.state == "missed" for p in planned) + sum(v.state == "missed" and not v.planned for v in visits),
        skipped=sum(v.state == "skipped" for v in visits),
        unplanned=sum(not v.planned and v.state in DONE for v in visits),
        flagged=sum(bool(v.flags) for v in visits),
        minutes_in_stores=round(sum(v.minutes_in_store or 0.0 for v in visits), 1),
        distance_km=round(_path_km(visits), 2),
    )
    if flagged_only:
        visits = [v for v in visits if v.flags]
    return s.RepDay(rep.id, rep.name, planned, visits, totals)


def _path(visits: list[s.VisitSummary]) -> list[s.Fixed]:
    fixes = [f for v in visits for f in (v.check_in, v.check_out) if f is not None]
    return sorted(fixes, key=lambda f: f.at)


def _path_km(visits: list[s.VisitSummary]) -> float:
    path = _path(visits)
    return sum(distance_m(a.lat, a.lng, b.lat, b.lng) for a, b in itertools.pairwise(path)) / 1000


def day_geojson(day: s.TeamDay) -> s.GeoJSON:
    """The team's day as a GeoJSON FeatureCollection ([longitude, latitude], RFC 7946) for the map."""
    features: list[dict[str, Any]] = []
    for rep in day.reps:
        common = {"rep_id": str(rep.rep_id), "rep_name": rep.rep_name}
        if len(rep.planned) >= 2:
            line = [[p.lng, p.lat] for p in sorted(rep.planned, key=lambda p: p.seq)]
            features.append(_feature("LineString", line, {**common, "kind": "planned_route"}))
        path = _path(rep.visits)
        if len(path) >= 2:
            features.append(_feature("LineString", [[f.lng, f.lat] for f in path], {**common, "kind": "actual_path"}))
        for visit in rep.visits:
            where = visit.check_in or None
            point = [where.lng, where.lat] if where else [visit.store_lng, visit.store_lat]
            properties = {
                **common,
                "kind": "visit",
                "visit_id": str(visit.id),
                "store_id": str(visit.store_id),
                "store_name": visit.store_name,
                "state": visit.state,
                "planned": visit.planned,
                "flagged": bool(visit.flags),
                "flags": [f.code for f in visit.flags],
                "verdict": where.verdict if where else None,
                "distance_m": where.distance_m if where else None,
                "accuracy_m": where.accuracy_m if where else None,
                "check_in_at": where.at.isoformat() if where else None,
                "check_out_at": visit.check_out.at.isoformat() if visit.check_out else None,
                "minutes_in_store": visit.minutes_in_store,
                "outcome": visit.outcome,
                "photos": len(visit.photos),
            }
            features.append(_feature("Point", point, properties))
    return {"type": "FeatureCollection", "features": features}


def _feature(kind: str, coordinates: Any, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": kind, "coordinates": coordinates}, "properties": properties}


async def team_live(principal: Principal) -> list[s.LivePosition]:
    """Each rep's last known position (their latest check-in or check-out) and their current or last visit."""
    reps = await team(principal)
    if not reps:
        return []
    since = utcnow() - dt.timedelta(days=14)
    rows = (
        await Visit.select()
        .where(
            (Visit.org_id == principal.org_id)
            & Visit.rep_id.is_in([r.id for r in reps])
            & Visit.check_in_at.is_not_null()
            & (Visit.check_in_at >= since)
        )
        .run()
    )
    latest: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        moment = max(t for t in (row["check_in_at"], row["check_out_at"]) if t is not None)
        known = latest.get(row["rep_id"])
        if known is None or moment > max(t for t in (known["check_in_at"], known["check_out_at"]) if t is not None):
            latest[row["rep_id"]] = row
    stores = await _stores(principal.org_id, {r["store_id"] for r in latest.values()})
    found = []
    for rep in reps:
        last = latest.get(rep.id)
        if last is None:
            found.append(s.LivePosition(rep.id, rep.name, None, None, None, None, None, False))
            continue
        visit = summary(last, stores.get(last["store_id"], {}))
        fix = visit.check_out or visit.check_in
        assert fix is not None
        in_store = visit.check_out is None and visit.state == "checked_in"
        found.append(s.LivePosition(rep.id, rep.name, fix.lat, fix.lng, fix.accuracy_m, fix.at, visit, in_store))
    return found


async def visit_report(
    principal: Principal, first: dt.date, last: dt.date, rep_id: uuid.UUID | None = None
) -> s.VisitReport:
    """Per rep and local day: planned against done, compliance, time in store, flags and outcomes."""
    reps = await team(principal, rep_id)
    rows = await _visits(principal.org_id, reps, first, last)
    zones = {r.id: r.time_zone for r in reps}
    names = {r.id: r.name for r in reps}
    groups: dict[tuple[dt.date, uuid.UUID], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        local = _local_date(row, zones[row["rep_id"]])
        if local is not None:
            groups[(local, row["rep_id"])].append(row)
    report = []
    for (day, rep), visits in sorted(groups.items(), key=lambda kv: (kv[0][0], names[kv[0][1]])):
        done = [v for v in visits if v["state"] in DONE]
        planned = [v for v in visits if v["planned"]]
        durations = [
            (v["check_out_at"] - v["check_in_at"]).total_seconds() / 60
            for v in done
            if v["check_in_at"] is not None and v["check_out_at"] is not None
        ]
        outcomes = Counter(v["outcome"] for v in visits if v["outcome"])
        done_as_planned = sum(v["state"] in DONE for v in planned)
        report.append(
            s.ReportRow(
                date=day,
                rep_id=rep,
                rep_name=names[rep],
                planned=len(planned),
                done=len(done),
                done_as_planned=done_as_planned,
                missed=sum(v["state"] == "missed" for v in visits),
                skipped=sum(v["state"] == "skipped" for v in visits),
                unplanned=sum(not v["planned"] for v in done),
                flagged=sum(bool(_flags(v["flags"])) for v in visits),
                compliance_pct=round(100 * done_as_planned / len(planned), 1) if planned else None,
                avg_minutes_in_store=round(sum(durations) / len(durations), 1) if durations else None,
                outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
            )
        )
    return s.VisitReport(first, last, report)


def report_csv(report: s.VisitReport) -> str:
    out = io.StringIO()
    columns = ["date", "rep_id", "rep_name", "planned", "done", "done_as_planned", "missed", "skipped", "unplanned"]
    columns += ["flagged", "compliance_pct", "avg_minutes_in_store", *(f"outcome_{o}" for o in OUTCOMES)]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in report.rows:
        values = msgspec.to_builtins(row)
        outcomes = values.pop("outcomes")
        writer.writerow(["" if v is None else v for v in values.values()] + [outcomes[o] for o in OUTCOMES])
    return out.getvalue()
