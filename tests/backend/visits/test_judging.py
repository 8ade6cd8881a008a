"""Check-ins arriving over sync are judged by the server: verdicts, flags, arrival time, late and out of order."""

from __future__ import annotations

import datetime as dt
import uuid

from backend.tables_base import utcnow
from backend.visits.days import close_days
from backend.visits.tables import Visit
from sync.clock import Clock
from tests.sync_device import Device

STORE_LAT, STORE_LNG = 31.2290, 121.4450  # the world's store "store" (a 100 m circle), assigned to "rep"


def offline_phone(client, token: str, moment: dt.datetime) -> Device:
    """A phone whose clock reads `moment`: what it makes now is stamped as made then (offline, synced later)."""
    phone = Device(client, token)
    phone.clock = Clock(phone.node, physical=lambda: int(moment.timestamp() * 1000))
    return phone


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def check_in(store_id: uuid.UUID, at: dt.datetime, lat: float, lng: float, accuracy: float = 10.0) -> dict:
    return {
        "store_id": str(store_id),
        "state": "checked_in",
        "planned": False,
        "check_in_at": iso(at),
        "check_in_lat": lat,
        "check_in_lng": lng,
        "check_in_accuracy_m": accuracy,
        "check_in_fix_age_s": 2.0,
    }


async def visit_row(visit: str) -> dict:
    row = await Visit.select().where(Visit.id == uuid.UUID(visit)).first().run()
    assert row is not None
    return row


def flag_codes(row: dict) -> list[str]:
    import json

    flags = json.loads(row["flags"]) if isinstance(row["flags"], str) else row["flags"]
    return [f["code"] for f in flags]


async def test_a_check_in_inside_the_fence_is_judged_inside_and_the_phone_gets_the_verdict(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    now = utcnow()
    visit = phone.create("visit", **check_in(t.ids["store"], now, STORE_LAT + 0.0002, STORE_LNG))  # ~22 m north
    await phone.sync()
    row = await visit_row(visit)
    assert row["verdict"] == "inside" and 0 <= row["verdict_distance_m"] <= 1
    assert row["received_at"] is not None and abs((row["received_at"] - now).total_seconds()) < 120
    assert flag_codes(row) == []
    await phone.sync()  # the server's fields come back as server changes
    mine = phone.replica.rows("visit")[visit]
    assert mine["verdict"] == "inside" and mine["flags"] == [] and mine["received_at"]


async def test_a_check_in_far_from_the_store_is_outside_and_flagged(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT + 0.0060, STORE_LNG))  # ~665 m
    await phone.sync()
    row = await visit_row(visit)
    assert row["verdict"] == "outside" and 500 < row["verdict_distance_m"] < 600
    assert "outside_fence" in flag_codes(row)


async def test_a_poor_fix_is_uncertain(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT, STORE_LNG, accuracy=400.0))
    await phone.sync()
    assert (await visit_row(visit))["verdict"] == "uncertain"


async def test_a_late_earlier_visit_rejudges_the_next_one_for_speed(world, client):
    """Visit B syncs first and looks fine; visit A, made 10 minutes before it 40 km away, arrives later from another
    phone: B is judged again and now carries the speed flag."""
    t = world.own
    at_b = utcnow() - dt.timedelta(minutes=30)
    phone = offline_phone(client, t.tokens["rep"], at_b)
    old_phone = offline_phone(client, t.tokens["rep"], at_b - dt.timedelta(minutes=10))
    b = phone.create("visit", **check_in(t.ids["store"], at_b, STORE_LAT, STORE_LNG))
    await phone.sync()
    assert "implausible_speed" not in flag_codes(await visit_row(b))
    a = old_phone.create(
        "visit", **check_in(t.ids["store"], at_b - dt.timedelta(minutes=10), STORE_LAT, STORE_LNG + 0.42)
    )
    await old_phone.sync()
    assert "implausible_speed" in flag_codes(await visit_row(b))
    assert flag_codes(await visit_row(a)) == ["outside_fence"]  # 40 km off, but nothing before it: no speed
    await phone.sync()
    assert "implausible_speed" in [f["code"] for f in phone.replica.rows("visit")[b]["flags"]]
    # The rep corrects A's position (it was at the same store after all): B's flag goes away again.
    old_phone.edit("visit", a, check_in_lng=STORE_LNG + 0.0003)
    await old_phone.sync()
    assert "implausible_speed" not in flag_codes(await visit_row(b))


async def test_a_check_in_arriving_days_late_is_judged_with_the_fence_of_its_time(world, client):
    t = world.own
    then = utcnow() - dt.timedelta(minutes=20)
    phone = offline_phone(client, t.tokens["rep"], then)
    # Made offline at the store's old place; meanwhile the admin moves the store ~1.1 km north.
    visit = phone.create("visit", **check_in(t.ids["store"], then, STORE_LAT, STORE_LNG))
    moved = await client.patch(
        f"/api/v1/stores/{t.ids['store']}", json={"lat": STORE_LAT + 0.01}, headers=t.auth("admin")
    )
    assert moved.status_code == 200, moved.text
    try:
        await phone.sync()
        assert (await visit_row(visit))["verdict"] == "inside"
        now_phone = Device(client, t.tokens["rep"])
        later = now_phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT, STORE_LNG))
        await now_phone.sync()
        assert (await visit_row(later))["verdict"] == "outside"  # now the fence is 1.1 km north
    finally:
        await client.patch(f"/api/v1/stores/{t.ids['store']}", json={"lat": STORE_LAT}, headers=t.auth("admin"))


async def test_a_planned_visit_closed_as_missed_comes_back_when_its_offline_check_in_arrives(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    yesterday = (utcnow() - dt.timedelta(days=1)).date()
    visit = phone.create(
        "visit", store_id=str(t.ids["store"]), state="planned", planned=True, planned_date=yesterday.isoformat()
    )
    tomorrow = (utcnow() + dt.timedelta(days=1)).date()  # not over anywhere yet
    upcoming = phone.create(
        "visit", store_id=str(t.ids["store"]), state="planned", planned=True, planned_date=tomorrow.isoformat()
    )
    await phone.sync()
    assert await close_days() >= 1
    assert (await visit_row(visit))["state"] == "missed"
    assert (await visit_row(upcoming))["state"] == "planned"
    # The rep did check in yesterday on another phone, offline, which only syncs now: its edit is stamped
    # yesterday, older than the server's "missed", so last-writer-wins alone would keep the visit missed.
    yesterday_noon = dt.datetime.combine(yesterday, dt.time(4, 0), tzinfo=dt.UTC)
    other = offline_phone(client, t.tokens["rep"], yesterday_noon)
    fields = check_in(t.ids["store"], yesterday_noon, STORE_LAT, STORE_LNG)
    other.edit("visit", visit, **{k: v for k, v in fields.items() if k != "store_id"})
    await other.sync()
    row = await visit_row(visit)
    assert row["state"] == "checked_in" and row["verdict"] == "inside"
    await phone.sync()
    assert phone.replica.rows("visit")[visit]["state"] == "checked_in"


async def test_visit_rules_are_readable_by_everyone_and_changed_by_an_admin(world, client):
    t = world.other
    got = await client.get("/api/v1/visit-rules", headers=t.auth("rep"))
    assert got.status_code == 200 and got.json()["max_accuracy_m"] == 150.0
    bad = await client.put("/api/v1/visit-rules", json={"max_accuracy_m": -3}, headers=t.auth("admin"))
    assert bad.status_code == 400 and "max_accuracy_m" in bad.text
    assert (await client.put("/api/v1/visit-rules", json={}, headers=t.auth("supervisor"))).status_code == 403
    changed = await client.put("/api/v1/visit-rules", json={"max_accuracy_m": 300}, headers=t.auth("admin"))
    assert changed.status_code == 200 and changed.json()["max_accuracy_m"] == 300
    assert (await client.get("/api/v1/visit-rules", headers=t.auth("rep"))).json()["max_accuracy_m"] == 300
    mine = await client.get("/api/v1/visit-rules", headers=world.own.auth("rep"))
    assert mine.json()["max_accuracy_m"] == 150.0  # another organisation's rules are its own
