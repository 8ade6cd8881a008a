"""Subscriptions, preferences and the inbox over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.push.tables import PushSubscription
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Reminder


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_subscription(endpoint: str | None = None) -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "endpoint": endpoint or f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}",
        "expirationTime": None,
        "keys": {"p256dh": b64(point), "auth": b64(os.urandom(16))},
    }


async def test_the_vapid_key_is_a_p256_point_and_stays_the_same(world, client):
    first = await client.get("/api/v1/push/key", headers=world.own.auth("rep"))
    again = await client.get("/api/v1/push/key", headers=world.other.auth("admin"))
    key = base64.urlsafe_b64decode(first.json()["public_key"] + "=")
    assert first.status_code == 200 and len(key) == 65 and key[0] == 4
    assert again.json() == first.json()


async def test_a_device_subscribes_once_per_endpoint_and_moves_to_whoever_registers_it(world, client):
    t = world.own
    sub = browser_subscription()
    answer = await client.post("/api/v1/push/subscriptions", json=sub, headers=t.auth("rep"))
    assert answer.status_code == 201, answer.text
    again = await client.post("/api/v1/push/subscriptions", json=sub, headers=t.auth("rep"))
    assert again.json()["id"] == answer.json()["id"]
    second = await client.post("/api/v1/push/subscriptions", json=browser_subscription(), headers=t.auth("rep"))
    mine = await client.get("/api/v1/push/subscriptions", headers=t.auth("rep"))
    assert {s["id"] for s in mine.json()} >= {answer.json()["id"], second.json()["id"]}
    # The same browser, now signed in as rep2: the subscription follows, as a new device (what was queued for
    # the rep is not sent to rep2).
    moved = await client.post("/api/v1/push/subscriptions", json=sub, headers=t.auth("rep2"))
    row = await PushSubscription.select().where(PushSubscription.endpoint == sub["endpoint"]).first().run()
    assert row["user_id"] == t.users["rep2"] and moved.json()["id"] != answer.json()["id"]
    assert sub["endpoint"] not in {
        s["endpoint"] for s in (await client.get("/api/v1/push/subscriptions", headers=t.auth("rep"))).json()
    }


async def test_bad_subscriptions_are_refused_naming_the_field(world, client):
    t = world.own
    cases = {
        "endpoint": browser_subscription("https://169.254.169.254/latest/meta-data/"),
        "keys.p256dh": {**browser_subscription(), "keys": {"p256dh": "too-short", "auth": b64(os.urandom(16))}},
        "keys.auth": {
            **browser_subscription(),
            "keys": {"p256dh": browser_subscription()["keys"]["p256dh"], "auth": "x"},
        },
    }
    for field, body in cases.items():
        answer = await client.post("/api/v1/push/subscriptions", json=body, headers=t.auth("rep"))
        assert answer.status_code == 400, answer.text
        assert field in answer.text
    far = {**browser_subscription(), "expirationTime": 10**18}
    answer = await client.post("/api/v1/push/subscriptions", json=far, headers=t.auth("rep"))
    assert answer.status_code == 400 and "expirationTime" in answer.text
    plain_http = browser_subscription("http://fcm.googleapis.com/fcm/send/x")
    answer = await client.post("/api/v1/push/subscriptions", json=plain_http, headers=t.auth("rep"))
    assert answer.status_code == 400 and answer.json()["code"] == "push.endpoint_refused"


async def test_unsubscribing_only_ever_removes_the_callers_own(world, client):
    t = world.own
    sub = browser_subscription()
    await client.post("/api/v1/push/subscriptions", json=sub, headers=t.auth("rep"))
    body = {"endpoint": sub["endpoint"]}
    for headers in (t.auth("rep2"), world.other.auth("rep")):
        answer = await client.request("DELETE", "/api/v1/push/subscriptions", json=body, headers=headers)
        assert answer.status_code == 404
    answer = await client.request("DELETE", "/api/v1/push/subscriptions", json=body, headers=t.auth("rep"))
    assert answer.status_code == 204
    assert not await PushSubscription.exists().where(PushSubscription.endpoint == sub["endpoint"]).run()


async def test_preferences(world, client):
    t = world.own
    answer = await client.get("/api/v1/push/preferences", headers=t.auth("rep3"))
    assert answer.json() == {"time_zone": None, "quiet_start": "21:00", "quiet_end": "07:00"}
    change = {"time_zone": "Europe/Berlin", "quiet_start": "22:30", "quiet_end": "06:00"}
    answer = await client.put("/api/v1/push/preferences", json=change, headers=t.auth("rep3"))
    assert answer.status_code == 200 and answer.json() == change
    for bad, field in (
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"quiet_start": "25:00", "quiet_end": "06:00"}, "quiet_start"),
        ({"quiet_start": "22:00", "quiet_end": None}, "quiet_end"),
    ):
        answer = await client.put("/api/v1/push/preferences", json=bad, headers=t.auth("rep3"))
        assert answer.status_code == 400 and field in answer.text, answer.text
    off = {"time_zone": None, "quiet_start": None, "quiet_end": None}
    assert (await client.put("/api/v1/push/preferences", json=off, headers=t.auth("rep3"))).json() == off


async def reminder_for(tenant, who: str, due: dt.datetime, **more) -> uuid.UUID:
    reminder_id = new_id()
    await Reminder.insert(
        Reminder(id=reminder_id, org_id=tenant.org_id, user_id=tenant.users[who], text="Call back", due_at=due, **more)
    ).run()
    return reminder_id


async def test_the_inbox_snooze_and_dismiss(world, client):
    t = world.own
    due = await reminder_for(t, "rep2", utcnow() - dt.timedelta(minutes=5))
    later = await reminder_for(t, "rep2", utcnow() + dt.timedelta(days=1))
    sent = await reminder_for(t, "rep2", utcnow() - dt.timedelta(hours=1), status="sent")
    gone = await reminder_for(t, "rep2", utcnow() - dt.timedelta(hours=2), status="dismissed")
    inbox = await client.get("/api/v1/reminders", headers=t.auth("rep2"))
    ids = [i["id"] for i in inbox.json()["items"]]
    assert str(due) in ids and str(sent) in ids and str(later) not in ids and str(gone) not in ids
    upcoming = await client.get("/api/v1/reminders", params={"status": "upcoming"}, headers=t.auth("rep2"))
    assert str(later) in [i["id"] for i in upcoming.json()["items"]]
    answer = await client.post(f"/api/v1/reminders/{sent}/snooze", json={"minutes": 30}, headers=t.auth("rep2"))
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    assert dt.datetime.fromisoformat(answer.json()["due_at"]) > utcnow() + dt.timedelta(minutes=29)
    answer = await client.post(f"/api/v1/reminders/{due}/dismiss", headers=t.auth("rep2"))
    assert answer.json()["status"] == "dismissed"
    for headers in (t.auth("rep"), t.auth("supervisor"), world.other.auth("admin")):
        answer = await client.post(f"/api/v1/reminders/{later}/dismiss", headers=headers)
        assert answer.status_code == 404
    answer = await client.post(f"/api/v1/reminders/{later}/snooze", json={"minutes": 0}, headers=t.auth("rep2"))
    assert answer.status_code == 400 and "minutes" in answer.text
