"""The planning API end to end: a rep's day from their stores' frequencies and opening hours, stored as a plan
and as planned visits that sync to the phone; re-planning from where the rep is; a week; a team's day; scoping."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from backend.stores import services as stores
from backend.stores.schemas import StoreCreate
from tests.world import Tenant, World

MONDAY = dt.date(2030, 1, 7)  # far ahead: "due" does not depend on the demo's history
ZONE = ZoneInfo("Asia/Shanghai")
# Around People's Square, Shanghai (the world's reps live at 31.23, 121.47).
PLACES = [(31.2304 + 0.004 * (i % 4), 121.4737 + 0.005 * (i // 4)) for i in range(9)]


async def _store(tenant: Tenant, rep: str, i: int, **fields: Any) -> uuid.UUID:
    lat, lng = PLACES[i]
    create = {
        "code": f"PL-{uuid.uuid4().hex[:8]}",
        "name": f"Plan store {i}",
        "channel": "convenience",
        "lat": lat,
        "lng": lng,
        "assigned_rep_id": tenant.users[rep],
        "visit_frequency": {"kind": "weekly", "weekdays": ["mon", "wed"]},
        "visit_minutes": 20,
        **fields,
    }
    admin = tenant.principal("admin", "admin")
    return (await stores.create_store(admin, msgspec.convert(create, StoreCreate))).id


@pytest.fixture(scope="module")
async def beat(world: World) -> dict[str, uuid.UUID]:
    """Seven stores of the rep due on Mondays: one closed at lunch, one open only in the afternoon, one closed on
    Mondays (never planned then), one open so briefly no visit fits."""
    own = world.own
    ids = {}
    for i in range(4):
        ids[f"plain{i}"] = await _store(own, "rep", i)
    ids["lunch"] = await _store(
        own, "rep", 4, opening_hours={"mon": [["08:00", "11:30"], ["13:30", "20:00"]], "wed": [["08:00", "20:00"]]}
    )
    ids["afternoon"] = await _store(
        own, "rep", 5, opening_hours={"mon": [["15:00", "18:00"]], "wed": [["15:00", "18:00"]]}
    )
    ids["brief"] = await _store(own, "rep", 6, opening_hours={"mon": [["09:00", "09:10"]], "wed": [["09:00", "09:10"]]})
    ids["tuesday_only"] = await _store(
        own,
        "rep",
        7,
        opening_hours={"tue": [["08:00", "20:00"]]},
        visit_frequency={"kind": "weekly", "weekdays": ["tue"]},
    )
    return ids


def _local(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(ZONE)


async def test_a_day_is_planned_in_order_inside_opening_hours_and_synced(
    world: World, client: Any, beat: dict[str, uuid.UUID]
) -> None:
    own = world.own
    response = await client.post(
        "/api/v1/planning/day", json={"rep_id": str(own.users["rep"]), "date": str(MONDAY)}, headers=own.auth("rep")
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    planned = {stop["store_id"]: stop for stop in plan["stops"]}
    assert str(beat["tuesday_only"]) not in planned  # not due on Monday
    for key in ("plain0", "plain1", "plain2", "plain3", "lunch", "afternoon"):
        assert str(beat[key]) in planned, key
    unassigned = {u["store_id"]: u for u in plan["unassigned"]}
    assert unassigned[str(beat["brief"])]["reason"] == "closed"  # ten minutes open: no 20-minute visit fits
    lunch, afternoon = planned[str(beat["lunch"])], planned[str(beat["afternoon"])]
    begin = _local(lunch["begin_at"]).time()
    assert dt.time(8) <= begin <= dt.time(11, 10) or dt.time(13, 30) <= begin <= dt.time(19, 40)
    assert dt.time(15) <= _local(afternoon["begin_at"]).time() <= dt.time(17, 40)
    seqs = [stop["seq"] for stop in plan["stops"]]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    times = [(_local(st["arrive_at"]), _local(st["depart_at"])) for st in plan["stops"]]
    assert all(a <= d for a, d in times) and all(times[i][1] <= times[i + 1][0] for i in range(len(times) - 1))
    assert times[0][0].time() >= dt.time(8, 30) and times[-1][1].time() <= dt.time(17, 30)
    assert len(plan["breaks"]) == 1 and plan["total_km"] > 0 and plan["travel_source"] == "estimate"

    # The planned visits reach the rep's phone, in order and with times.
    sync = await client.post(
        "/api/v1/sync",
        json={"protocol": 1, "schema_version": 1, "client_id": f"plan-{uuid.uuid4().hex[:8]}", "changes": []},
        headers=own.auth("rep"),
    )
    fields: dict[str, dict[str, Any]] = {}
    while True:
        body = sync.json()
        for change in body["changes"]:
            if change["table"] == "visit":
                fields.setdefault(change["row"], {})[change["column"]] = change["value"]
        if not body["has_more"]:
            break
        sync = await client.post(
            "/api/v1/sync",
            json={"protocol": 1, "schema_version": 1, "client_id": "plan-x", "cursor": body["cursor"], "changes": []},
            headers=own.auth("rep"),
        )
    for stop in plan["stops"]:
        visit = fields[stop["visit_id"]]
        assert visit["state"] == "planned" and visit["planned_date"] == str(MONDAY)
        assert visit["planned_seq"] == stop["seq"] and visit["store_id"] == stop["store_id"]


async def test_planning_again_replaces_the_plan_and_keeps_one_visit_per_store(
    world: World, client: Any, beat: dict[str, uuid.UUID]
) -> None:
    own = world.own
    body = {"rep_id": str(own.users["rep"]), "date": str(MONDAY)}
    first = (await client.post("/api/v1/planning/day", json=body, headers=own.auth("supervisor"))).json()
    again = (await client.post("/api/v1/planning/day", json=body, headers=own.auth("admin"))).json()
    assert again["id"] == first["id"]
    assert {s["store_id"] for s in again["stops"]} == {s["store_id"] for s in first["stops"]}
    listed = await client.get(
        f"/api/v1/planning/plans?date_from={MONDAY}&date_to={MONDAY}&rep_id={own.users['rep']}", headers=own.auth("rep")
    )
    assert [p["id"] for p in listed.json()] == [first["id"]]
    assert (await client.get(f"/api/v1/planning/plans/{first['id']}", headers=own.auth("rep"))).json() == again


async def test_replan_keeps_what_is_done_and_never_plans_the_past(
    world: World, client: Any, beat: dict[str, uuid.UUID]
) -> None:
    own = world.own
    plan = (
        await client.post(
            "/api/v1/planning/day", json={"rep_id": str(own.users["rep"]), "date": str(MONDAY)}, headers=own.auth("rep")
        )
    ).json()
    first = plan["stops"][0]
    checked_in = _local(first["arrive_at"]) + dt.timedelta(minutes=5)
    await _visit_done(client, own, first["visit_id"], checked_in, checked_in + dt.timedelta(minutes=20))
    now = checked_in + dt.timedelta(minutes=40)
    response = await client.post(
        "/api/v1/planning/replan",
        json={
            "rep_id": str(own.users["rep"]),
            "date": str(MONDAY),
            "position": {"lat": PLACES[8][0], "lng": PLACES[8][1]},
            "at": now.isoformat(),
        },
        headers=own.auth("rep"),
    )
    assert response.status_code == 200, response.text
    replanned = response.json()
    assert replanned["stops"][0]["store_id"] == first["store_id"]
    assert _local(replanned["stops"][0]["arrive_at"]) == checked_in  # the past as it happened
    for stop in replanned["stops"][1:]:
        assert _local(stop["arrive_at"]) >= now
    kept = {s["store_id"] for s in replanned["stops"]} | {u["store_id"] for u in replanned["unassigned"]}
    assert kept >= {s["store_id"] for s in plan["stops"]}


async def _visit_done(
    client: Any, tenant: Tenant, visit_id: str, check_in: dt.datetime, check_out: dt.datetime
) -> None:
    node = f"done-{uuid.uuid4().hex[:8]}"
    stamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)  # the device's clock: now, not the planned day
    changes = [
        {"table": "visit", "row": visit_id, "column": column, "value": value, "hlc": f"{stamp:012x}-0000", "node": node}
        for column, value in (
            ("state", "checked_out"),
            ("check_in_at", check_in.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")),
            ("check_out_at", check_out.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")),
        )
    ]
    response = await client.post(
        "/api/v1/sync",
        json={"protocol": 1, "schema_version": 1, "client_id": node, "changes": changes},
        headers=tenant.auth("rep"),
    )
    assert response.status_code == 200, response.text
    assert all(r["status"] == "accepted" for r in response.json()["results"]), response.text


async def test_a_week_follows_each_store_frequency(world: World, client: Any, beat: dict[str, uuid.UUID]) -> None:
    own = world.own
    start = MONDAY + dt.timedelta(days=7)
    response = await client.post(
        "/api/v1/planning/week", json={"rep_id": str(own.users["rep"]), "start": str(start)}, headers=own.auth("rep")
    )
    assert response.status_code == 200, response.text
    week = response.json()
    days = {p["date"]: {s["store_id"] for s in p["stops"]} for p in week["plans"]}
    monday, tuesday, wednesday = str(start), str(start + dt.timedelta(days=1)), str(start + dt.timedelta(days=2))
    assert str(beat["plain0"]) in days[monday] and str(beat["plain0"]) in days[wednesday]
    assert str(beat["tuesday_only"]) in days[tuesday]
    visits = sum(len(stores) for stores in days.values())
    assert visits == week["beat"]["visits"] - sum(
        1 for p in week["plans"] for u in p["unassigned"]
    )  # every due visit is in a day's route or said why not


async def test_a_team_day_shares_the_stores_among_reps(world: World, client: Any, beat: dict[str, uuid.UUID]) -> None:
    own = world.own
    day = MONDAY + dt.timedelta(days=14)
    response = await client.post(
        "/api/v1/planning/team",
        json={"date": str(day), "rep_ids": [str(own.users["rep"]), str(own.users["rep2"])]},
        headers=own.auth("supervisor"),
    )
    assert response.status_code == 200, response.text
    team = response.json()
    assert {p["rep_id"] for p in team["plans"]} == {str(own.users["rep"]), str(own.users["rep2"])}
    planned = [s["store_id"] for p in team["plans"] for s in p["stops"]]
    assert len(planned) == len(set(planned))  # no store twice
    assert str(beat["plain0"]) in planned


async def test_scoping_and_bad_input(world: World, client: Any, beat: dict[str, uuid.UUID]) -> None:
    own, other = world.own, world.other
    day = {"date": str(MONDAY)}
    # A rep plans only their own day; a supervisor only their team's; another tenant's rep does not exist.
    assert (
        await client.post(
            "/api/v1/planning/day", json={**day, "rep_id": str(own.users["rep"])}, headers=own.auth("rep2")
        )
    ).status_code == 404
    assert (
        await client.post(
            "/api/v1/planning/day", json={**day, "rep_id": str(own.users["rep3"])}, headers=own.auth("supervisor")
        )
    ).status_code == 404
    assert (
        await client.post(
            "/api/v1/planning/day", json={**day, "rep_id": str(other.users["rep"])}, headers=own.auth("admin")
        )
    ).status_code == 404
    assert (
        await client.post(
            "/api/v1/planning/team",
            json={"date": str(MONDAY), "rep_ids": [str(own.users["rep"])]},
            headers=own.auth("rep"),
        )
    ).status_code == 403
    other_day = await client.post(
        "/api/v1/planning/replan",
        json={
            **day,
            "rep_id": str(own.users["rep"]),
            "position": {"lat": 31.23, "lng": 121.47},
            "at": f"{MONDAY + dt.timedelta(days=1)}T10:00:00+08:00",
        },
        headers=own.auth("rep"),
    )
    assert other_day.status_code == 400 and other_day.json()["errors"][0]["field"] == "at"
    bad = await client.post(
        "/api/v1/planning/day",
        json={**day, "rep_id": str(own.users["rep"]), "start_time": "25:00"},
        headers=own.auth("rep"),
    )
    assert bad.status_code == 400 and "start_time" in bad.text
    foreign_store = await client.post(
        "/api/v1/planning/day",
        json={**day, "rep_id": str(own.users["rep"]), "store_ids": [str(other.ids["store"])]},
        headers=own.auth("rep"),
    )
    assert foreign_store.status_code == 404 and "store_ids" in foreign_store.text


async def test_the_same_day_planned_twice_at_once_keeps_one_plan(
    world: World, client: Any, beat: dict[str, uuid.UUID]
) -> None:
    own = world.own
    day = MONDAY + dt.timedelta(days=21)
    body = {"rep_id": str(own.users["rep"]), "date": str(day)}
    answers = await asyncio.gather(
        client.post("/api/v1/planning/day", json=body, headers=own.auth("rep")),
        client.post("/api/v1/planning/day", json=body, headers=own.auth("supervisor")),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    listed = await client.get(
        f"/api/v1/planning/plans?date_from={day}&date_to={day}&rep_id={own.users['rep']}", headers=own.auth("admin")
    )
    [plan] = listed.json()
    visits = [stop["visit_id"] for stop in plan["stops"]]
    assert len(visits) == len(set(visits)) == len({stop["store_id"] for stop in plan["stops"]})


async def test_a_rep_cannot_plan_another_reps_store(world: World, client: Any, beat: dict[str, uuid.UUID]) -> None:
    own = world.own
    response = await client.post(
        "/api/v1/planning/day",
        json={"rep_id": str(own.users["rep"]), "date": str(MONDAY), "store_ids": [str(own.ids["store2"])]},
        headers=own.auth("rep"),
    )
    assert response.status_code == 404 and "store_ids" in response.text
    # Their supervisor sees rep2's store (same team) and may add it to rep's day.
    response = await client.post(
        "/api/v1/planning/day",
        json={"rep_id": str(own.users["rep"]), "date": str(MONDAY), "store_ids": [str(own.ids["store2"])]},
        headers=own.auth("supervisor"),
    )
    assert response.status_code == 200, response.text
