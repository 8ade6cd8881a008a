"""A must-stock product out of stock: one reminder for the rep's next visit and one alert for the supervisor."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import msgspec

from backend.inspections.ids import out_of_stock_alert_id, out_of_stock_reminder_id
from backend.inspections.rules import InspectionRules, set_inspection_rules
from backend.inspections.tables import Inspection
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Reminder, Visit
from tests.backend.inspections.factories import audit, product, start_inspection
from tests.sync_device import Device

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def reminders_of(inspection: str, *products: str) -> list[dict]:
    """The reminders and alerts the server made for these products of the inspection (their ids are derived)."""
    ids = [
        derive(uuid.UUID(inspection), uuid.UUID(p))
        for p in products
        for derive in (out_of_stock_reminder_id, out_of_stock_alert_id)
    ]
    return await Reminder.select().where(Reminder.id.is_in(ids)).run()


async def test_one_reminder_and_one_alert_however_often_the_change_is_pushed(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=False)
    sent = list(phone.outbox)
    await phone.sync()
    # The same push again (a retry after a lost answer), and once more.
    for _ in range(2):
        assert (await phone.request(sent)).status_code == 200
    rows = await reminders_of(inspection, tea)
    assert sorted((r["kind"], r["user_id"], r["status"]) for r in rows) == [
        ("alert", t.users["supervisor"], "pending"),
        ("reminder", t.users["rep"], "pending"),
    ]
    reminder = next(r for r in rows if r["kind"] == "reminder")
    assert reminder["store_id"] == t.ids["store"]
    assert "Product" in reminder["text"] and "out of stock" in reminder["text"].lower()
    alert = next(r for r in rows if r["kind"] == "alert")
    assert "Rep" in alert["text"]


async def test_back_and_forth_withdraws_and_revives_the_same_rows(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    first = {r["id"] for r in await reminders_of(inspection, tea)}
    audit(phone, inspection, tea, present=True, facings=2)
    await phone.sync()
    assert {r["status"] for r in await reminders_of(inspection, tea)} == {"withdrawn"}
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    rows = await reminders_of(inspection, tea)
    assert {r["id"] for r in rows} == first and len(first) == 2
    assert {r["status"] for r in rows} == {"pending"}


async def test_a_dismissed_reminder_stays_dismissed(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    await phone.sync()
    reminder = str(out_of_stock_reminder_id(uuid.UUID(inspection), uuid.UUID(tea)))
    assert phone.replica.rows("reminder")[reminder]["status"] == "pending"
    phone.edit("reminder", reminder, status="dismissed")
    await phone.sync()
    audit(phone, inspection, tea, present=True)
    await phone.sync()
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    statuses = {r["kind"]: r["status"] for r in await reminders_of(inspection, tea)}
    assert statuses == {"reminder": "dismissed", "alert": "pending"}


async def test_the_rep_and_the_supervisor_each_pull_only_their_own(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    await phone.sync()
    boss = Device(client, t.tokens["supervisor"])
    await boss.sync()
    reminder = str(out_of_stock_reminder_id(uuid.UUID(inspection), uuid.UUID(tea)))
    alert = str(out_of_stock_alert_id(uuid.UUID(inspection), uuid.UUID(tea)))
    assert reminder in phone.replica.rows("reminder") and alert not in phone.replica.rows("reminder")
    assert boss.replica.rows("reminder")[alert]["kind"] == "alert"
    other = Device(client, t.tokens["supervisor2"])
    await other.sync()
    assert alert not in other.replica.rows("reminder")


async def test_the_reminder_is_due_at_the_next_planned_visit_of_the_store(world, client):
    t = world.own
    tea = await product(t)
    arrival = dt.datetime(2031, 5, 6, 10, 30, tzinfo=SHANGHAI)
    planned = new_id()
    await Visit.insert(
        Visit(
            id=planned,
            org_id=t.org_id,
            rep_id=t.users["rep"],
            store_id=t.ids["store"],
            state="planned",
            planned=True,
            planned_date=arrival.date(),
            planned_arrival_at=arrival,
        )
    ).run()
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t, at=dt.datetime(2031, 5, 2, 9, 0, tzinfo=SHANGHAI))
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    reminder = (
        await Reminder.select()
        .where(Reminder.id == out_of_stock_reminder_id(uuid.UUID(inspection), uuid.UUID(tea)))
        .first()
        .run()
    )
    assert reminder["visit_id"] == planned and reminder["due_at"] == arrival


async def test_without_a_planned_visit_the_reminder_is_due_the_next_working_morning(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    friday = dt.datetime(2031, 7, 4, 15, 0, tzinfo=SHANGHAI)
    _, inspection = start_inspection(phone, t, at=friday)
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    reminder = (
        await Reminder.select()
        .where(Reminder.id == out_of_stock_reminder_id(uuid.UUID(inspection), uuid.UUID(tea)))
        .first()
        .run()
    )
    # Monday 08:30 local (the default working week and day start).
    assert reminder["due_at"] == dt.datetime(2031, 7, 7, 8, 30, tzinfo=SHANGHAI)
    assert reminder["visit_id"] is None


async def test_thresholds_of_the_organisation(world, client):
    t = world.own
    tea, cola = await product(t), await product(t)
    rival = await product(t, own_brand=False, must_stock=False)
    await set_inspection_rules(t.org_id, InspectionRules(alert_min_out_of_stock=2))
    try:
        phone = Device(client, t.tokens["rep"])
        _, inspection = start_inspection(phone, t)
        audit(phone, inspection, tea, present=False)
        audit(phone, inspection, rival, present=False)  # not must-stock: never a reminder or an alert
        await phone.sync()
        assert sorted(r["kind"] for r in await reminders_of(inspection, tea, cola, rival)) == ["reminder"]
        audit(phone, inspection, cola, present=False)
        await phone.sync()
        assert sorted(r["kind"] for r in await reminders_of(inspection, tea, cola, rival)) == [
            "alert",
            "alert",
            "reminder",
            "reminder",
        ]
        await set_inspection_rules(t.org_id, InspectionRules(remind_rep=False, alert_min_out_of_stock=0))
        audit(phone, inspection, cola, facings=0)  # any edit re-applies the rules
        await phone.sync()
        assert {r["status"] for r in await reminders_of(inspection, tea, cola, rival)} == {"withdrawn"}
    finally:
        await set_inspection_rules(t.org_id, InspectionRules())


async def test_no_reminders_for_an_inspection_with_everything_in_stock(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t, at=utcnow())
    audit(phone, inspection, tea, present=True, facings=2)
    await phone.sync()
    assert await reminders_of(inspection, tea, str(t.ids["product"])) == []
    assert msgspec.to_builtins(InspectionRules())["alert_min_out_of_stock"] == 1


async def test_an_inspection_made_offline_days_ago_still_raises_its_follow_ups(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t, at=utcnow() - dt.timedelta(days=4))  # it reaches the server now
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    assert sorted(r["kind"] for r in await reminders_of(inspection, tea)) == ["alert", "reminder"]


async def test_a_correction_long_after_arrival_raises_nothing_new(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=True)
    await phone.sync()
    # The inspection reached the server four days ago (history), and is edited now.
    await (
        Inspection.update({Inspection.created_at: utcnow() - dt.timedelta(days=4)})
        .where(Inspection.id == uuid.UUID(inspection))
        .run()
    )
    audit(phone, inspection, tea, present=False)
    await phone.sync()
    assert await reminders_of(inspection, tea) == []
    row = await Inspection.select(Inspection.oos_rate).where(Inspection.id == uuid.UUID(inspection)).first().run()
    assert row["oos_rate"] == 1.0  # still scored, and in the reports


async def test_a_rep_cannot_take_the_id_of_the_supervisors_alert(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=False)
    forged = str(out_of_stock_alert_id(uuid.UUID(inspection), uuid.UUID(tea)))
    phone.edit("reminder", forged, _cl=1, text="nothing to see", due_at="2026-11-23T00:00:00Z", status="dismissed")
    await phone.sync()
    assert {(c.row, r.code) for c, r in phone.rejected} == {(forged, "sync.invalid_value")}
    alert = await Reminder.select().where(Reminder.id == uuid.UUID(forged)).first().run()
    assert alert["user_id"] == t.users["supervisor"] and alert["status"] == "pending"


async def test_deleting_an_inspection_withdraws_its_follow_ups(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    row = audit(phone, inspection, tea, present=False)
    await phone.sync()
    phone.delete("inspection_item", row)
    phone.delete("inspection", inspection)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    assert {r["status"] for r in await reminders_of(inspection, tea)} == {"withdrawn"}
