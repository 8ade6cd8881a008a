"""Delivering reminders and alerts by Web Push to a fake push service that checks, decrypts and answers like a
real one (tests/fake_push.py)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import msgspec
import pytest
import pytest_asyncio

from backend.db import read_transaction
from backend.orgs.tables import User
from backend.push import delivery
from backend.push.payload import topic
from backend.push.tables import PushDelivery, PushSubscription
from backend.push.vapid import application_server_key
from backend.settings import Settings
from backend.sync_api import versions
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Reminder
from tests.fake_push import FakePushService, Subscription


@pytest_asyncio.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[FakePushService]:
    async with FakePushService(vapid_public_key=application_server_key(settings)) as fake:
        yield fake


@pytest.fixture
def push_settings(settings: Settings, service: FakePushService) -> Settings:
    """The app's settings with the fake service allowed (on loopback, with its own CA)."""
    host = service.origin.removeprefix("https://")
    return msgspec.structs.replace(
        settings, push_extra_hosts=[host], push_allow_private=True, push_ca_file=service.ca_file, push_timeout_s=5.0
    )


async def device(tenant, who: str, service: FakePushService) -> Subscription:
    """A browser of `who` subscribed to the fake service."""
    sub = service.subscribe()
    await PushSubscription.insert(
        PushSubscription(
            id=new_id(),
            org_id=tenant.org_id,
            user_id=tenant.users[who],
            endpoint=sub.endpoint,
            p256dh=sub.p256dh,
            auth=sub.auth,
        )
    ).run()
    return sub


async def reminder(tenant, who: str, *, due: dt.datetime | None = None, **more) -> uuid.UUID:
    reminder_id = new_id()
    await Reminder.insert(
        Reminder(
            id=reminder_id,
            org_id=tenant.org_id,
            user_id=tenant.users[who],
            text=more.pop("text", "Call the store manager back"),
            due_at=due or utcnow() - dt.timedelta(minutes=1),
            **more,
        )
    ).run()
    return reminder_id


def messages(service: FakePushService, sub: Subscription) -> list[dict]:
    return [json.loads(r.payload) for r in service.delivered(sub.endpoint)]


async def no_quiet_hours(tenant, *who: str) -> None:
    await (
        User.update({User.quiet_start: None, User.quiet_end: None})
        .where(User.id.is_in([tenant.users[w] for w in who]))
        .run()
    )


async def test_a_due_reminder_reaches_every_device_once_with_ttl_urgency_and_topic(world, service, push_settings):
    t = world.own
    await no_quiet_hours(t, "rep")
    phone, laptop = await device(t, "rep", service), await device(t, "rep", service)
    due = await reminder(t, "rep", store_id=t.ids["store"])
    later = await reminder(t, "rep", due=utcnow() + dt.timedelta(hours=3))
    assert await delivery.run_push(push_settings) == 2
    assert await delivery.run_push(push_settings) == 0  # nothing twice
    for sub in (phone, laptop):
        [received] = service.delivered(sub.endpoint)
        body = json.loads(received.payload)
        assert body["id"] == str(due) and body["url"] == f"/reminders/{due}" and body["tag"] == f"reminder-{due}"
        assert body["body"] == "Call the store manager back" and body["title"] == "Reminder"
        assert body["store_id"] == str(t.ids["store"])
        assert (received.ttl, received.urgency, received.topic) == (push_settings.push_ttl_s, "normal", topic(due))
        assert received.claims["sub"].startswith("mailto:")
    row = await Reminder.select(Reminder.status, Reminder.sent_at).where(Reminder.id == due).first().run()
    assert row["status"] == "sent" and row["sent_at"] is not None
    async with read_transaction():
        synced = await versions.read_rows(t.org_id, "reminder", [str(due)])
    assert synced[str(due)]["status"].change.value == "sent"  # the phones learn it
    assert (await Reminder.select(Reminder.status).where(Reminder.id == later).first().run())["status"] == "pending"


async def test_dismissed_and_withdrawn_reminders_never_fire(world, service, push_settings):
    t = world.own
    await no_quiet_hours(t, "rep2")
    sub = await device(t, "rep2", service)
    await reminder(t, "rep2", status="dismissed")
    await reminder(t, "rep2", status="withdrawn")
    await delivery.run_push(push_settings)
    assert service.delivered(sub.endpoint) == []


async def test_quiet_hours_hold_a_reminder_until_morning_but_not_an_urgent_one(world, service, push_settings):
    t = world.own
    zone = ZoneInfo("America/New_York")
    local = utcnow().astimezone(zone)
    start, end = (local - dt.timedelta(hours=1)).strftime("%H:%M"), (local + dt.timedelta(hours=2)).strftime("%H:%M")
    await (
        User.update({User.time_zone: "America/New_York", User.quiet_start: start, User.quiet_end: end})
        .where(User.id == t.users["rep3"])
        .run()
    )
    try:
        sub = await device(t, "rep3", service)
        quiet = await reminder(t, "rep3")
        urgent = await reminder(t, "rep3", urgent=True, text="Store reports a leak")
        await delivery.run_push(push_settings)
        assert [m["id"] for m in messages(service, sub)] == [str(urgent)]
        assert service.delivered(sub.endpoint)[0].urgency == "high"
        held = await Reminder.select().where(Reminder.id == quiet).first().run()
        assert held["status"] == "pending" and held["deliver_after"] is not None
        assert held["deliver_after"].astimezone(zone).strftime("%H:%M") == end
        # Morning comes.
        await (
            Reminder.update({Reminder.deliver_after: utcnow() - dt.timedelta(seconds=1)})
            .where(Reminder.id == quiet)
            .run()
        )
        await User.update({User.quiet_start: None, User.quiet_end: None}).where(User.id == t.users["rep3"]).run()
        await delivery.run_push(push_settings)
        assert [m["id"] for m in messages(service, sub)] == [str(urgent), str(quiet)]
    finally:
        await (
            User.update({User.time_zone: None, User.quiet_start: "21:00", User.quiet_end: "07:00"})
            .where(User.id == t.users["rep3"])
            .run()
        )


async def test_gone_subscriptions_are_deleted_and_busy_services_retried(world, service, push_settings):
    t = world.own
    await no_quiet_hours(t, "supervisor")
    gone, busy, broken, big = [await device(t, "supervisor", service) for _ in range(4)]
    service.script(gone, 410)
    service.script(busy, (429, 120))
    service.script(broken, 500, 500)
    service.script(big, 413)
    due = await reminder(t, "supervisor", kind="alert")
    started = utcnow()
    await delivery.run_push(push_settings)
    assert not await PushSubscription.exists().where(PushSubscription.endpoint == gone.endpoint).run()
    rows = {
        r["endpoint"]: r
        for r in await PushDelivery.select(
            PushDelivery.status,
            PushDelivery.attempts,
            PushDelivery.next_attempt_at,
            PushDelivery.last_status,
            PushDelivery.subscription_id.endpoint.as_alias("endpoint"),
        )
        .where(PushDelivery.reminder_id == due)
        .run()
    }
    assert rows[busy.endpoint]["status"] == "pending" and rows[busy.endpoint]["last_status"] == 429
    assert rows[busy.endpoint]["next_attempt_at"] >= started + dt.timedelta(seconds=120)  # Retry-After honoured
    assert rows[broken.endpoint]["status"] == "pending"
    assert rows[broken.endpoint]["next_attempt_at"] >= started + delivery.FIRST_RETRY
    assert rows[big.endpoint]["status"] == "failed" and rows[big.endpoint]["last_status"] == 413
    failures = (
        await PushSubscription.select(PushSubscription.failures)
        .where(PushSubscription.endpoint == broken.endpoint)
        .first()
        .run()
    )
    assert failures["failures"] == 1
    # Time passes: retries are due. The 500 answers once more (backoff doubles), then the service recovers.
    await PushDelivery.update({PushDelivery.next_attempt_at: utcnow()}).where(PushDelivery.status == "pending").run()
    await delivery.run_push(push_settings)
    assert [m["id"] for m in messages(service, busy)] == [str(due)]
    assert messages(service, broken) == []
    await PushDelivery.update({PushDelivery.next_attempt_at: utcnow()}).where(PushDelivery.status == "pending").run()
    await delivery.run_push(push_settings)
    assert [m["id"] for m in messages(service, broken)] == [str(due)]
    assert messages(service, big) == []
    recovered = (
        await PushSubscription.select(PushSubscription.failures)
        .where(PushSubscription.endpoint == broken.endpoint)
        .first()
        .run()
    )
    assert recovered["failures"] == 0


async def test_a_service_that_keeps_failing_is_given_up_after_the_last_attempt(world, service, push_settings):
    t = world.own
    await no_quiet_hours(t, "admin")
    sub = await device(t, "admin", service)
    service.script(sub, *([503] * push_settings.push_max_attempts))
    due = await reminder(t, "admin")
    for _ in range(push_settings.push_max_attempts):
        await (
            PushDelivery.update({PushDelivery.next_attempt_at: utcnow()}).where(PushDelivery.status == "pending").run()
        )
        await delivery.run_push(push_settings)
    row = await PushDelivery.select().where(PushDelivery.reminder_id == due).first().run()
    assert (row["status"], row["attempts"], row["last_status"]) == ("failed", push_settings.push_max_attempts, 503)
    assert messages(service, sub) == []


async def test_a_snoozed_reminder_is_sent_again_with_the_same_topic(world, service, push_settings):
    t = world.own
    await no_quiet_hours(t, "supervisor2")
    sub = await device(t, "supervisor2", service)
    due = await reminder(t, "supervisor2")
    await delivery.run_push(push_settings)
    # Snoozed for ten minutes, and the ten minutes pass.
    await (
        Reminder.update({Reminder.status: "pending", Reminder.due_at: utcnow() - dt.timedelta(seconds=1)})
        .where(Reminder.id == due)
        .run()
    )
    await delivery.run_push(push_settings)
    sent = service.delivered(sub.endpoint)
    assert [json.loads(r.payload)["id"] for r in sent] == [str(due), str(due)]
    assert {r.topic for r in sent} == {topic(due)}


async def test_a_user_without_devices_still_gets_it_in_the_inbox(world, client, push_settings):
    t = world.other
    await no_quiet_hours(t, "rep")
    due = await reminder(t, "rep")
    await delivery.run_push(push_settings)
    inbox = await client.get("/api/v1/reminders", headers=t.auth("rep"))
    assert str(due) in {i["id"] for i in inbox.json()["items"]}


async def test_a_reminder_dismissed_while_its_send_waits_for_a_retry_is_never_sent(
    world, client, service, push_settings
):
    t = world.other
    await no_quiet_hours(t, "rep2")
    sub = await device(t, "rep2", service)
    service.script(sub, (429, 1))
    due = await reminder(t, "rep2")
    await delivery.run_push(push_settings)
    answer = await client.post(f"/api/v1/reminders/{due}/dismiss", headers=t.auth("rep2"))
    assert answer.status_code == 200
    await PushDelivery.update({PushDelivery.next_attempt_at: utcnow()}).where(PushDelivery.reminder_id == due).run()
    await delivery.run_push(push_settings)
    assert messages(service, sub) == []
    row = await PushDelivery.select(PushDelivery.status).where(PushDelivery.reminder_id == due).first().run()
    assert row["status"] == "cancelled"


async def test_quiet_hours_turned_off_release_what_they_held(world, client, service, push_settings):
    t = world.other
    zone = ZoneInfo("Asia/Shanghai")
    local = utcnow().astimezone(zone)
    quiet = {
        "time_zone": "Asia/Shanghai",
        "quiet_start": (local - dt.timedelta(hours=1)).strftime("%H:%M"),
        "quiet_end": (local + dt.timedelta(hours=2)).strftime("%H:%M"),
    }
    assert (await client.put("/api/v1/push/preferences", json=quiet, headers=t.auth("supervisor"))).status_code == 200
    sub = await device(t, "supervisor", service)
    due = await reminder(t, "supervisor")
    await delivery.run_push(push_settings)
    assert messages(service, sub) == []
    off = {"time_zone": None, "quiet_start": None, "quiet_end": None}
    assert (await client.put("/api/v1/push/preferences", json=off, headers=t.auth("supervisor"))).status_code == 200
    await delivery.run_push(push_settings)
    assert [m["id"] for m in messages(service, sub)] == [str(due)]
