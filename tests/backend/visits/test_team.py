"""The supervisor's day, live positions and reports: planned against actual, scoped to the caller's team."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from backend.planning.tables import RoutePlan, RouteStop
from backend.tables_base import utcnow
from sync.clock import Clock
from tests.backend.visits.test_judging import STORE_LAT, STORE_LNG, check_in, iso, offline_phone

DAY = (utcnow() - dt.timedelta(days=2)).date()  # a day that has ended everywhere
NINE = dt.datetime.combine(DAY, dt.time(1, 0), tzinfo=dt.UTC)  # 09:00 in Shanghai


@pytest.fixture(scope="module")
async def day_of_work(world, client):
    """rep: a route of two stops on DAY; checks in at the first (inside), not at the second; one unplanned visit
    far outside its fence. rep3 (another supervisor's team) has one visit too."""
    t = world.own
    plan = RoutePlan(org_id=t.org_id, rep_id=t.users["rep"], date=DAY, status="published")
    await plan.save().run()
    for seq, store in enumerate(("store", "store2"), start=1):
        await RouteStop(org_id=t.org_id, plan_id=plan.id, store_id=t.ids[store], seq=seq).save().run()
    phone = offline_phone(client, t.tokens["rep"], NINE)
    planned = phone.create(
        "visit",
        **check_in(t.ids["store"], NINE, STORE_LAT + 0.0001, STORE_LNG),
        planned_date=DAY.isoformat(),
    )
    phone.edit("visit", planned, planned=True)
    out = NINE + dt.timedelta(minutes=25)
    phone.edit(
        "visit",
        planned,
        state="checked_out",
        check_out_at=out.isoformat().replace("+00:00", "Z"),
        check_out_lat=STORE_LAT,
        check_out_lng=STORE_LNG + 0.0001,
        check_out_accuracy_m=9.0,
        outcome="order_taken",
        order_value_minor=125_000,
    )
    taken = iso(NINE + dt.timedelta(minutes=5))
    phone.create("photo", visit_id=planned, sha256="b" * 64, taken_at=taken, lat=STORE_LAT, lng=STORE_LNG)
    later = NINE + dt.timedelta(hours=2)
    phone.clock = Clock(phone.node, physical=lambda: int(later.timestamp() * 1000))
    unplanned = phone.create("visit", **check_in(t.ids["store"], later, STORE_LAT + 0.02, STORE_LNG))
    await phone.sync()
    assert not phone.rejected, phone.rejected
    other = offline_phone(client, t.tokens["rep3"], NINE)
    theirs = other.create("visit", **check_in(t.ids["store3"], NINE, 31.2330, 121.4450))
    await other.sync()
    return {"planned": planned, "unplanned": unplanned, "theirs": theirs}


async def test_the_supervisors_day_shows_planned_against_actual_for_their_team_only(world, client, day_of_work):
    t = world.own
    response = await client.get("/api/v1/team/day", params={"date": DAY.isoformat()}, headers=t.auth("supervisor"))
    assert response.status_code == 200, response.text
    day = response.json()
    reps = {r["rep_id"]: r for r in day["reps"]}
    assert set(reps) == {str(t.users["rep"]), str(t.users["rep2"])}  # rep3 is supervisor2's
    rep = reps[str(t.users["rep"])]
    assert [(p["seq"], p["state"]) for p in rep["planned"]] == [(1, "checked_out"), (2, "missed")]
    assert rep["planned"][0]["visit_id"] == day_of_work["planned"]
    visits = {v["id"]: v for v in rep["visits"]}
    done = visits[day_of_work["planned"]]
    assert done["check_in"]["verdict"] == "inside" and done["minutes_in_store"] == 25.0
    assert done["outcome"] == "order_taken" and done["flags"] == []
    [photo] = done["photos"]
    assert photo["sha256"] == "b" * 64 and photo["lat"] == STORE_LAT and photo["uploaded"] is False
    assert photo["taken_at"].startswith(DAY.isoformat()) and photo["url"] == f"/api/v1/photos/{'b' * 64}"
    odd = visits[day_of_work["unplanned"]]
    assert odd["check_in"]["verdict"] == "outside" and "outside_fence" in [f["code"] for f in odd["flags"]]
    assert rep["totals"] == {
        "planned": 2,
        "done": 2,
        "missed": 1,
        "skipped": 0,
        "unplanned": 1,
        "flagged": 1,
        "minutes_in_stores": 25.0,
        "distance_km": pytest.approx(2.2, abs=0.1),
    }
    assert day["totals"]["done"] == 2
    admin = (await client.get("/api/v1/team/day", params={"date": DAY.isoformat()}, headers=t.auth("admin"))).json()
    assert str(t.users["rep3"]) in {r["rep_id"] for r in admin["reps"]}


async def test_filters_narrow_the_day(world, client, day_of_work):
    t = world.own
    params = {"date": DAY.isoformat(), "flagged": "true", "rep_id": str(t.users["rep"])}
    day = (await client.get("/api/v1/team/day", params=params, headers=t.auth("supervisor"))).json()
    assert [r["rep_id"] for r in day["reps"]] == [str(t.users["rep"])]
    assert [v["id"] for v in day["reps"][0]["visits"]] == [day_of_work["unplanned"]]
    elsewhere = await client.get(
        "/api/v1/team/day",
        params={"date": DAY.isoformat(), "rep_id": str(t.users["rep3"])},
        headers=t.auth("supervisor"),
    )
    assert elsewhere.status_code == 404
    other_tenant = await client.get(
        "/api/v1/team/day",
        params={"date": DAY.isoformat(), "rep_id": str(t.users["rep"])},
        headers=world.other.auth("admin"),
    )
    assert other_tenant.status_code == 404
    territory = await client.get(
        "/api/v1/team/day",
        params={"date": DAY.isoformat(), "territory_id": str(world.other.ids["territory"])},
        headers=t.auth("admin"),
    )
    assert territory.status_code == 404


async def test_the_day_as_geojson_for_the_map(world, client, day_of_work):
    t = world.own
    for request in (
        {"params": {"date": DAY.isoformat(), "format": "geojson"}},
        {"params": {"date": DAY.isoformat()}, "headers_extra": {"Accept": "application/geo+json"}},
    ):
        headers = {**t.auth("supervisor"), **request.get("headers_extra", {})}
        response = await client.get("/api/v1/team/day", params=request["params"], headers=headers)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
        collection = response.json()
        assert collection["type"] == "FeatureCollection"
        kinds = [f["properties"]["kind"] for f in collection["features"]]
        assert kinds.count("planned_route") == 1 and kinds.count("visit") == 2
        point = next(f for f in collection["features"] if f["properties"].get("visit_id") == day_of_work["unplanned"])
        lng, lat = point["geometry"]["coordinates"]
        assert lat == pytest.approx(STORE_LAT + 0.02) and lng == pytest.approx(STORE_LNG)  # [lng, lat] order
        assert point["properties"]["flagged"] is True and point["properties"]["accuracy_m"] == 10.0


async def test_live_positions_show_each_reps_last_fix(world, client, day_of_work):
    t = world.own
    response = await client.get("/api/v1/team/live", headers=t.auth("supervisor"))
    assert response.status_code == 200
    live = {p["rep_id"]: p for p in response.json()}
    assert set(live) == {str(t.users["rep"]), str(t.users["rep2"])}
    rep = live[str(t.users["rep"])]
    assert rep["visit"]["id"] == day_of_work["unplanned"] and rep["in_store"] is True
    assert rep["lat"] == pytest.approx(STORE_LAT + 0.02)
    assert live[str(t.users["rep2"])]["lat"] is None  # no visit yet


async def test_the_visit_report_in_json_and_csv(world, client, day_of_work):
    t = world.own
    params = {"date_from": (DAY - dt.timedelta(days=1)).isoformat(), "date_to": DAY.isoformat()}
    report = (await client.get("/api/v1/reports/visits", params=params, headers=t.auth("supervisor"))).json()
    row = next(r for r in report["rows"] if r["rep_id"] == str(t.users["rep"]) and r["date"] == DAY.isoformat())
    assert (row["planned"], row["done"], row["done_as_planned"], row["unplanned"], row["flagged"]) == (1, 2, 1, 1, 1)
    assert row["compliance_pct"] == 100.0 and row["avg_minutes_in_store"] == 25.0
    assert row["outcomes"]["order_taken"] == 1
    assert all(r["rep_id"] != str(t.users["rep3"]) for r in report["rows"])
    exported = await client.get(
        "/api/v1/reports/visits", params={**params, "format": "csv"}, headers=t.auth("supervisor")
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert any(r["rep_id"] == str(t.users["rep"]) and r["outcome_order_taken"] == "1" for r in rows)


async def test_bad_report_ranges_and_roles(world, client):
    t = world.own
    backwards = await client.get(
        "/api/v1/reports/visits", params={"date_from": "2026-02-01", "date_to": "2026-01-01"}, headers=t.auth("admin")
    )
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "date_to"
    too_long = await client.get(
        "/api/v1/reports/visits", params={"date_from": "2024-01-01", "date_to": "2026-01-01"}, headers=t.auth("admin")
    )
    assert too_long.status_code == 400
    bad_date = await client.get("/api/v1/team/day", params={"date": "yesterday"}, headers=t.auth("admin"))
    assert bad_date.status_code == 400 and "date" in bad_date.text
    for path in ("/api/v1/team/day?date=2026-01-01", "/api/v1/team/live", "/api/v1/reports/visits"):
        assert (await client.get(path, headers=t.auth("rep"))).status_code == 403
