"""Supervisors are alerted to flagged check-ins and to planned visits missed by the end of the day, once each."""

from __future__ import annotations

import datetime as dt
import uuid

from backend.tables_base import utcnow
from backend.visits.alerts import flagged_alert_id, missed_alert_id
from backend.visits.days import close_days
from backend.visits.tables import Reminder
from tests.backend.visits.test_judging import STORE_LAT, STORE_LNG, check_in
from tests.sync_device import Device


async def alert(alert_id: uuid.UUID) -> dict | None:
    return await Reminder.select().where(Reminder.id == alert_id).first().run()


async def test_a_flagged_check_in_alerts_the_supervisor_and_a_cleared_one_withdraws_it(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT + 0.0060, STORE_LNG))  # ~665 m away
    await phone.sync()
    sent = await alert(flagged_alert_id(uuid.UUID(visit)))
    assert sent is not None and sent["kind"] == "alert" and sent["status"] == "pending"
    assert sent["user_id"] == t.users["supervisor"] and sent["visit_id"] == uuid.UUID(visit)
    assert "Rep" in sent["text"] and "flagged" in sent["text"]
    await phone.sync()
    assert str(flagged_alert_id(uuid.UUID(visit))) not in phone.replica.rows(
        "reminder"
    )  # the supervisor's, not the rep's
    boss = Device(client, t.tokens["supervisor"])
    await boss.sync()
    assert boss.replica.rows("reminder")[str(flagged_alert_id(uuid.UUID(visit)))]["kind"] == "alert"
    # The rep corrects the position (the fix was taken in the car park): the flag clears, the alert is withdrawn.
    phone.edit("visit", visit, check_in_lat=STORE_LAT, check_in_lng=STORE_LNG)
    await phone.sync()
    assert (await alert(flagged_alert_id(uuid.UUID(visit))))["status"] == "withdrawn"


async def test_a_check_in_inside_the_fence_alerts_nobody(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep2"])
    visit = phone.create("visit", **check_in(t.ids["store2"], utcnow(), 31.2310, 121.4450))
    await phone.sync()
    assert await alert(flagged_alert_id(uuid.UUID(visit))) is None


async def test_missed_visits_make_one_alert_per_rep_and_day(world, client):
    t = world.other
    phone = Device(client, t.tokens["rep"])
    yesterday = (utcnow() + dt.timedelta(hours=8)).date() - dt.timedelta(days=1)  # the tenant works in Shanghai
    for _ in range(2):
        phone.create(
            "visit", store_id=str(t.ids["store"]), state="planned", planned=True, planned_date=yesterday.isoformat()
        )
    await phone.sync()
    assert await close_days() >= 2
    assert await close_days() == 0
    rows = await Reminder.select().where(Reminder.id == missed_alert_id(t.users["rep"], yesterday)).run()
    assert len(rows) == 1
    assert rows[0]["user_id"] == t.users["supervisor"] and "2 planned visit" in rows[0]["text"]
