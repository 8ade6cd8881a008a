"""The server's judgement of visits written over sync: fence verdicts, plausibility flags, arrival time, state.

Runs in the push's transaction after the visits are projected. A check-in is judged with the fence its store had
at the time of the check-in (backend/stores/fences.py) and the organisation's rules. Flags depend on the rep's
neighbouring positions, so a visit arriving late (or out of order) re-judges the rep's visits around it. Results
are written to the visit rows and recorded as server changes, so every device pulls them; unchanged results
write nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec

from backend import db
from backend.orgs.tables import Organization
from backend.stores import fences as history
from backend.stores.schemas import OpeningHours
from backend.stores.tables import Store
from backend.sync_api import versions
from backend.sync_api.record import record_rows
from backend.tables_base import utcnow
from backend.visits.alerts import Judged, alert_flagged
from backend.visits.fences import Fence, FenceRules, Fix, judge
from backend.visits.flags import Position, VisitFacts, flags_for
from backend.visits.rules import rules_from
from backend.visits.tables import Visit
from sync.changes import canonical

log = logging.getLogger("fieldbook.visits")

# A change to any of these columns of a visit calls for judging it again.
JUDGED = frozenset(
    {
        "_cl",
        "store_id",
        "state",
        "check_in_at",
        "check_in_lat",
        "check_in_lng",
        "check_in_accuracy_m",
        "check_out_at",
        "check_out_lat",
        "check_out_lng",
        "check_out_accuracy_m",
    }
)
# What judging reads of a visit (not all its columns: Piccolo converts every value it reads).
COLUMNS = (
    Visit.id,
    Visit.rep_id,
    Visit.store_id,
    Visit.state,
    Visit.flags,
    Visit.received_at,
    *(getattr(Visit, f"{kind}_{what}") for kind in ("check_in", "check_out") for what in ("at", "lat", "lng")),
    Visit.check_in_accuracy_m,
    Visit.check_out_accuracy_m,
)
# Flags that depend on the rep's other visits.
NEIGHBOURLY = frozenset({"implausible_speed", "repeated_coordinates"})
# How far around a judged visit the rep's other positions are looked at (speed, repeated coordinates).
NEIGHBOURHOOD = dt.timedelta(days=1)


async def judge_visits(org_id: uuid.UUID, visit_ids: Iterable[str]) -> None:
    """Judge these visits (just written over sync) and the rep's visits around them in time."""
    ids = [uuid.UUID(v) for v in set(visit_ids)]
    if not ids:
        return
    # The arrived visits, whole: those without a position yet still get their state and arrival checked.
    rows: dict[uuid.UUID, dict[str, Any]] = {
        row["id"]: row
        for row in await Visit.select(*COLUMNS).where((Visit.org_id == org_id) & Visit.id.is_in(ids)).run()
    }
    windows: dict[uuid.UUID, tuple[dt.datetime, dt.datetime]] = {}
    for v in rows.values():
        times = [t for t in (v["check_in_at"], v["check_out_at"]) if t is not None]
        if not times:
            continue
        low, high = min(times) - NEIGHBOURHOOD, max(times) + NEIGHBOURHOOD
        known = windows.get(v["rep_id"])
        windows[v["rep_id"]] = (min(low, known[0]), max(high, known[1])) if known else (low, high)
    for rep_id, (low, high) in windows.items():
        in_window = (Visit.check_in_at.is_not_null() & (Visit.check_in_at >= low) & (Visit.check_in_at <= high)) | (
            Visit.check_out_at.is_not_null() & (Visit.check_out_at >= low) & (Visit.check_out_at <= high)
        )
        in_scope = (Visit.org_id == org_id) & (Visit.rep_id == rep_id) & in_window
        for row in await Visit.select(*COLUMNS).where(in_scope).run():
            rows.setdefault(row["id"], row)
    if rows:
        await _judge(org_id, rows, _affected(rows, set(ids)), newly_arrived={str(i) for i in ids})


def _affected(rows: dict[uuid.UUID, dict[str, Any]], arrived: set[uuid.UUID]) -> set[uuid.UUID]:
    """The visits whose judgement may change: the arrived ones; the first check-in after each of their positions
    (its speed is measured from them); those with the same coordinates (repeated coordinates); and those that
    carry a neighbour-dependent flag now (an edited position may clear it)."""
    targets = set(arrived)
    by_rep: dict[uuid.UUID, list[Position]] = defaultdict(list)
    for row in rows.values():
        by_rep[row["rep_id"]].extend(p for p in _positions(row) if p is not None)
        if {f.get("code") for f in db.json_value(row["flags"]) or []} & NEIGHBOURLY:
            targets.add(row["id"])
    mine = {str(v) for v in arrived}
    for positions in by_rep.values():
        positions.sort(key=lambda p: p.at)
        places: dict[tuple[float, float], set[str]] = defaultdict(set)
        for index, position in enumerate(positions):
            places[(round(position.lat, 6), round(position.lng, 6))].add(position.visit_id)
            if position.visit_id in mine:
                following = (q for q in positions[index + 1 :] if q.visit_id != position.visit_id)
                after = next((q for q in following if q.kind == "check_in"), None)
                if after is not None:
                    targets.add(uuid.UUID(after.visit_id))
        for visits in places.values():
            if len(visits) > 1 and visits & mine:
                targets |= {uuid.UUID(v) for v in visits}
    return targets


async def _judge(
    org_id: uuid.UUID,
    rows: dict[uuid.UUID, dict[str, Any]],
    targets: set[uuid.UUID],
    newly_arrived: set[str],
) -> None:
    """Judge `targets` against the rep positions of all `rows`."""
    org = await (
        Organization.select(Organization.visit_rules, Organization.time_zone)
        .where(Organization.id == org_id)
        .first()
        .run()
    )
    rules = rules_from(org["visit_rules"] if org else None)
    time_zone = org["time_zone"] if org else "UTC"
    judged = {visit_id: rows[visit_id] for visit_id in targets if visit_id in rows}
    stores = {
        s["id"]: s
        for s in await Store.select(Store.id, Store.opening_hours, Store.min_visit_minutes)
        .where((Store.org_id == org_id) & Store.id.is_in(list({r["store_id"] for r in judged.values()})))
        .run()
    }
    fence_history = await history.history(org_id, stores)
    stamps = await versions.read_rows(org_id, "visit", [str(i) for i in judged])
    by_rep: dict[uuid.UUID, list[Position]] = defaultdict(list)
    for row in rows.values():
        by_rep[row["rep_id"]].extend(p for p in _positions(row) if p is not None)
    now = utcnow()
    updates: list[tuple[uuid.UUID, dict[str, Any]]] = []
    flags: dict[uuid.UUID, list[dict[str, str]]] = {}
    arrivals: dict[uuid.UUID, dt.datetime | None] = {}
    fence_rules = FenceRules(tolerance_m=rules.fence_tolerance_m, max_accuracy_m=rules.max_accuracy_m)
    for visit_id, row in judged.items():
        check_in, check_out = _positions(row)
        fences = fence_history.get(row["store_id"], [])
        result: dict[str, Any] = {
            "verdict": None,
            "verdict_distance_m": None,
            "check_out_verdict": None,
            "check_out_distance_m": None,
        }
        for position, verdict_key, distance_key in (
            (check_in, "verdict", "verdict_distance_m"),
            (check_out, "check_out_verdict", "check_out_distance_m"),
        ):
            fence = history.fence_at(fences, position.at) if position else None
            if position is not None and fence is not None:
                try:
                    verdict = judge(
                        Fix(position.lat, position.lng, position.accuracy_m),
                        Fence(fence.lat, fence.lng, fence.geofence),
                        fence_rules,
                    )
                except ValueError:  # a fence that cannot be judged (the API refuses such shapes): no verdict
                    log.warning("visit %s: the fence of store %s cannot be judged", visit_id, row["store_id"])
                    continue
                result[verdict_key], result[distance_key] = verdict.verdict, round(verdict.distance_m, 1)
        received = row["received_at"]
        if received is None and check_in is not None and str(visit_id) in newly_arrived:
            received = now
        result["received_at"] = received
        arrivals[visit_id] = received
        stamp = stamps.get(str(visit_id), {}).get("check_in_at")
        store = stores.get(row["store_id"], {})
        facts = VisitFacts(
            visit_id=str(visit_id),
            store_id=str(row["store_id"]),
            check_in=check_in,
            check_out=check_out,
            stamped_at=_stamp_time(stamp.change.hlc) if stamp else None,
            received_at=received,
            verdict=result["verdict"],
            distance_m=result["verdict_distance_m"],
            min_visit_minutes=int(store.get("min_visit_minutes") or 0),
            opening_hours=_hours(store.get("opening_hours")),
            time_zone=time_zone,
        )
        result["flags"] = msgspec.to_builtins(flags_for(facts, by_rep[row["rep_id"]], rules))
        flags[visit_id] = result["flags"]
        if row["state"] == "missed" and check_in is not None:
            # Checked in offline before the day was closed as missed: the visit happened.
            result["state"] = "checked_out" if check_out is not None else "checked_in"
        # Against the replicated state, so a device learns even a result equal to the column's default.
        synced = stamps.get(str(visit_id), {})
        changed = {
            k: v
            for k, v in result.items()
            if k not in synced or canonical(synced[k].change.value) != canonical(msgspec.to_builtins(v))
        }
        if changed:
            updates.append((visit_id, changed))
    await db.update_rows("visit", updates, json_columns=frozenset({"flags"}))
    if updates:
        await record_rows(org_id, "visit", updates, stored=stamps)
    # Supervisors hear of flagged check-ins (a flag that clears withdraws the alert).
    await alert_flagged(
        org_id,
        [
            Judged(visit_id, row["rep_id"], row["store_id"], arrivals[visit_id], flags[visit_id])
            for visit_id, row in judged.items()
        ],
    )


def _positions(row: dict[str, Any]) -> tuple[Position | None, Position | None]:
    found: list[Position | None] = []
    for kind in ("check_in", "check_out"):
        at, lat, lng = row[f"{kind}_at"], row[f"{kind}_lat"], row[f"{kind}_lng"]
        if at is None or lat is None or lng is None:
            found.append(None)
            continue
        accuracy = row[f"{kind}_accuracy_m"]
        found.append(
            Position(
                str(row["id"]),
                str(row["store_id"]),
                kind,
                at,
                lat,
                lng,
                float(accuracy) if accuracy is not None else 1_000.0,
            )
        )
    return found[0], found[1]


def _stamp_time(hlc: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(hlc[:12], 16) / 1000, tz=dt.UTC)


def _hours(raw: Any) -> OpeningHours | None:
    if raw is None:
        return None
    value = db.json_value(raw)
    return None if value is None else msgspec.convert(value, OpeningHours)
