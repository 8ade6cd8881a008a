"""The demo seeder: an empty database becomes a believable Shanghai field-sales organisation, seen through the API."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
import pytest_asyncio
from shapely.geometry import Point, shape

from backend.catalog.barcodes import barcode_problem
from backend.demo import DatabaseNotEmpty, DemoSummary, existing_demo_logins, seed_demo
from backend.demo.catalogue import plan_products
from backend.demo.history import history_days
from backend.demo.places import load_places
from backend.demo.stores import plan_stores
from backend.demo.team import Member, Team
from backend.errors import Conflict
from backend.orgs.tables import Organization, User
from backend.stores.schemas import CircleFence, Geofence, OpeningHours, VisitFrequency
from backend.stores.services import check_shape
from backend.visits.tables import Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(SHANGHAI).date()
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest_asyncio.fixture(scope="module")
async def demo(app: object) -> DemoSummary:
    return await seed_demo(today=TODAY)


def _login_of(demo: DemoSummary, email_start: str) -> tuple[str, str]:
    login = next(login for login in demo.logins if login.email.startswith(email_start))
    return login.email, login.password


async def _token(client: httpx.AsyncClient, demo: DemoSummary, email_start: str) -> tuple[dict[str, str], uuid.UUID]:
    email, password = _login_of(demo, email_start)
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}"}, uuid.UUID(body["user"]["id"])


async def _stores(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/stores", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_seeding_an_empty_database_makes_the_whole_demo(demo):
    assert demo.organization == "Demo Foods"
    assert (demo.stores, demo.products) == (300, 150)
    assert Counter(login.role for login in demo.logins) == {"admin": 1, "supervisor": 2, "rep": 8}
    assert {login.password for login in demo.logins} == {"fieldbook-demo"}
    assert demo.logins[0].email == "admin@demofoods.example"
    assert demo.assortments > 0 and demo.visits > 0 and 0 < demo.inspections < demo.visits
    assert await existing_demo_logins() == demo


async def test_every_product_has_a_unique_valid_barcode(demo, client):
    admin, _ = await _token(client, demo, "admin@")
    response = await client.get("/api/v1/products", params={"limit": 500}, headers=admin)
    assert response.status_code == 200, response.text
    products = response.json()["items"]
    assert len(products) == 150
    barcodes = [p["barcode"] for p in products]
    assert [barcode_problem(b) for b in barcodes] == [None] * 150
    assert all(b.startswith("69") for b in barcodes) and len(set(barcodes)) == 150
    assert {p["own_brand"] for p in products} == {True, False}


async def test_every_store_comes_back_valid_and_inside_its_territory(demo, client):
    admin, _ = await _token(client, demo, "admin@")
    stores = await _stores(client, admin)
    response = await client.get("/api/v1/territories", headers=admin)
    territories = {t["id"]: shape(t["polygon"]) for t in response.json()["items"]}
    assert len(stores) == 300 and len(territories) == 2
    fence_kinds: Counter[str] = Counter()
    for store in stores:
        fence = msgspec.convert(store["geofence"], Geofence)
        hours = msgspec.convert(store["opening_hours"], OpeningHours)
        msgspec.convert(store["visit_frequency"], VisitFrequency)
        check_shape(fence, hours, store["lat"], store["lng"])
        fence_kinds[type(fence).__name__] += 1
        assert (store["city"], store["country"]) == ("Shanghai", "CN")
        assert 200000 <= int(store["postcode"]) <= 201999
        assert store["assigned_rep_id"] is not None
        assert territories[store["territory_id"]].contains(Point(store["lng"], store["lat"]))
    assert fence_kinds["PolygonFence"] > 0 and fence_kinds["CircleFence"] > fence_kinds["PolygonFence"]


async def test_history_covers_every_rep_on_every_past_working_day_within_opening_hours(demo, client):
    admin, _ = await _token(client, demo, "admin@")
    stores = {s["id"]: s for s in await _stores(client, admin)}
    org = await Organization.select(Organization.id).where(Organization.name == "Demo Foods").first().run()
    assert org is not None
    reps = await User.select(User.id).where((User.org_id == org["id"]) & (User.role == "rep")).run()
    visits = await Visit.select().where(Visit.org_id == org["id"]).output(load_json=True).run()
    start_of_today = dt.datetime.combine(TODAY, dt.time(0), tzinfo=SHANGHAI)
    days_by_rep = defaultdict(set)
    for visit in visits:
        if visit["planned_seq"] is not None:  # today's route, planned by the planner (test below)
            assert visit["state"] == "planned" and visit["planned_date"] == TODAY
            continue
        if visit["state"] != "checked_out":
            assert visit["check_in_at"] is None and visit["planned_date"] < TODAY
            continue
        check_in = visit["check_in_at"].astimezone(SHANGHAI)
        check_out = visit["check_out_at"].astimezone(SHANGHAI)
        assert check_in < start_of_today
        assert dt.timedelta(minutes=15) <= check_out - check_in <= dt.timedelta(minutes=60)
        days_by_rep[visit["rep_id"]].add(check_in.date())
        store = stores[str(visit["store_id"])]
        intervals = store["opening_hours"][WEEKDAYS[check_in.weekday()]]
        local_in, local_out = check_in.strftime("%H:%M"), check_out.strftime("%H:%M")
        assert any(opens <= local_in and local_out <= closes for opens, closes in intervals), (store, local_in)
        fence = msgspec.convert(store["geofence"], Geofence)
        if isinstance(fence, CircleFence) and visit["verdict"] == "inside":
            assert visit["verdict_distance_m"] <= fence.radius_m
        if isinstance(fence, CircleFence) and visit["verdict"] == "outside":
            assert visit["verdict_distance_m"] > fence.radius_m
    expected = set(history_days(TODAY))
    assert len(expected) == 12
    assert {rep["id"]: days_by_rep[rep["id"]] for rep in reps} == {rep["id"]: expected for rep in reps}


async def test_every_rep_has_a_route_for_today(demo, client):
    stops = 0
    for login in demo.logins:
        if login.role != "rep":
            continue
        headers, rep_id = await _token(client, demo, login.email)
        response = await client.get(
            "/api/v1/planning/plans", params={"date_from": str(TODAY), "date_to": str(TODAY)}, headers=headers
        )
        assert response.status_code == 200, response.text
        [plan] = response.json()
        assert plan["rep_id"] == str(rep_id)
        if TODAY.weekday() < 6:  # the demo works Monday to Saturday
            assert plan["stops"] and plan["total_km"] > 0
        assert [stop["seq"] for stop in plan["stops"]] == list(range(1, len(plan["stops"]) + 1))
        stops += len(plan["stops"])
    assert demo.planned_today == stops


async def test_seeding_again_is_refused_and_changes_nothing(demo):
    with pytest.raises(DatabaseNotEmpty, match="--force"):
        await seed_demo(today=TODAY)
    with pytest.raises(Conflict) as refused:
        await seed_demo(force=True, today=TODAY)
    assert refused.value.code == "demo.exists" and not isinstance(refused.value, DatabaseNotEmpty)
    assert await Organization.count().run() == 1
    assert await existing_demo_logins() == demo


async def test_a_demo_rep_sees_only_their_own_stores(demo, client):
    rep, rep_id = await _token(client, demo, "rep1@")
    stores = await _stores(client, rep)
    assert stores
    assert {s["assigned_rep_id"] for s in stores} == {str(rep_id)}


async def test_a_demo_supervisor_sees_only_their_teams_stores(demo, client):
    supervisor, supervisor_id = await _token(client, demo, "supervisor1@")
    team = {str(r["id"]) for r in await User.select(User.id).where(User.supervisor_id == supervisor_id).run()}
    stores = await _stores(client, supervisor)
    assert len(team) == 4
    assert stores and {s["assigned_rep_id"] for s in stores} == team


async def test_the_demo_admin_sees_every_store(demo, client):
    admin, _ = await _token(client, demo, "admin@")
    assert len(await _stores(client, admin)) == 300


def _fake_team() -> Team:
    homes = list(load_places().homes)
    member = Member(user_id=uuid.UUID(int=1), email="a@x.example", name="A", role="admin")
    reps = [
        Member(uuid.UUID(int=10 + n), f"r{n}@x.example", f"R{n}", "rep", h.territory, h.lat, h.lng)
        for n, h in enumerate(homes)
    ]
    return Team(org_id=uuid.UUID(int=2), admin=member, supervisors=[], reps=reps)


def test_one_seed_always_plans_the_same_stores_and_products():
    team, territories = _fake_team(), {"west": uuid.UUID(int=3), "east": uuid.UUID(int=4)}
    first = plan_stores(random.Random(7), load_places(), team, territories)
    again = plan_stores(random.Random(7), load_places(), team, territories)
    assert [s.data for s in first] == [s.data for s in again]
    assert [p.data for p in plan_products(random.Random(7))] == [p.data for p in plan_products(random.Random(7))]
