"""Inspections typed offline and pushed item by item, field by field: scores, convergence, and the server's rules."""

from __future__ import annotations

import uuid

import pytest

from backend.inspections.ids import item_id
from backend.inspections.tables import Inspection, InspectionItem
from backend.sync_api.tables import SyncField
from backend.tables_base import utcnow
from tests.backend.inspections.factories import audit, product, start_inspection
from tests.backend.visits.test_judging import STORE_LAT, STORE_LNG, check_in
from tests.sync_device import Device


async def inspection_row(inspection: str) -> dict:
    row = await Inspection.select().where(Inspection.id == uuid.UUID(inspection)).first().run()
    assert row is not None
    return row


async def item_rows(inspection: str) -> dict[str, dict]:
    rows = await InspectionItem.select().where(InspectionItem.inspection_id == uuid.UUID(inspection)).run()
    return {str(r["product_id"]): r for r in rows}


async def server_versions(inspection: str) -> list[tuple[str, str, int]]:
    """The server's own field versions of an inspection and its items."""
    rows = [inspection] + [str(r["id"]) for r in (await item_rows(inspection)).values()]
    found = (
        await SyncField.select(SyncField.row_id, SyncField.col, SyncField.seq)
        .where(SyncField.row_id.is_in(rows) & SyncField.node.like("server%"))
        .run()
    )
    return sorted((r["row_id"], r["col"], r["seq"]) for r in found)


async def test_an_inspection_typed_offline_is_scored_and_the_phone_learns_the_scores(world, client):
    t = world.own
    tea = await product(t, rrp_minor=450, min_facings=2)
    cola = await product(t, rrp_minor=300, min_facings=1, price_tolerance_pct=10)
    rival = await product(t, own_brand=False, rrp_minor=500, must_stock=False)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=True, facings=3, shelf_price_minor=460)
    audit(phone, inspection, cola, present=False, facings=0)
    audit(phone, inspection, rival, present=True, facings=4, shelf_price_minor=560)
    audit(phone, inspection, str(t.ids["product"]), present=True, facings=1, shelf_price_minor=450)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    row = await inspection_row(inspection)
    # Must-stock here: tea, cola and the world's chain product. Cola is out.
    assert row["oos_rate"] == pytest.approx(1 / 3)
    assert row["assortment_compliance"] == pytest.approx(2 / 3)
    assert row["facings_compliance"] == 1.0  # tea 3 >= 2, chain product 1 >= 1
    assert row["price_compliance"] == pytest.approx(2 / 3)  # tea 2.2 % and chain product 0 % in; rival 12 % out
    assert row["share_of_shelf"] == pytest.approx(4 / 8)
    assert row["score"] == pytest.approx((40 * 2 / 3 + 20 * 2 / 3 + 20 * 1 + 20 * 2 / 3) / 100)
    items = await item_rows(inspection)
    assert items[tea]["must_stock"] is True and items[tea]["min_facings"] == 2
    assert items[tea]["price_deviation_pct"] == pytest.approx(10 / 450 * 100) and items[tea]["price_ok"] is True
    assert items[rival]["must_stock"] is False and items[rival]["price_ok"] is False
    assert items[cola]["price_ok"] is None
    await phone.sync()
    synced = phone.replica.rows("inspection")[inspection]
    assert synced["score"] == pytest.approx(row["score"])
    assert phone.replica.rows("inspection_item")[str(item_id(inspection, tea))]["must_stock"] is True


async def test_an_edit_rescores_and_unchanged_scores_write_nothing(world, client):
    t = world.own
    tea = await product(t, min_facings=3)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    audit(phone, inspection, tea, present=True, facings=1)
    await phone.sync()
    assert (await inspection_row(inspection))["facings_compliance"] == 0.0
    audit(phone, inspection, tea, facings=3)
    await phone.sync()
    assert (await inspection_row(inspection))["facings_compliance"] == 1.0
    before = await server_versions(inspection)
    audit(phone, inspection, tea, note="seen behind the counter")
    await phone.sync()
    # The note changes nothing the server derives: no new server version of the scores or the item's targets.
    assert await server_versions(inspection) == before


async def test_two_phones_auditing_one_inspection_offline_converge(world, client):
    t = world.own
    tea, cola = await product(t), await product(t)
    rival = await product(t, own_brand=False, must_stock=False)
    first = Device(client, t.tokens["rep"])
    second = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(first, t)
    audit(first, inspection, tea, present=True, facings=2)
    await first.sync()
    await second.sync()
    # Offline on both: different items, the same item's different fields, the same field, and the same new item.
    audit(first, inspection, tea, facings=3, note="first phone")
    audit(second, inspection, tea, shelf_price_minor=470)
    audit(second, inspection, tea, facings=5)  # later than the first phone's 3: wins
    audit(first, inspection, cola, present=False)
    audit(second, inspection, rival, present=True, facings=6)
    audit(first, inspection, rival, shelf_price_minor=520)  # the same new item, created on both
    await first.sync()
    await second.sync()
    await first.sync()
    assert not first.rejected and not second.rejected, (first.rejected, second.rejected)
    for table in ("inspection", "inspection_item"):
        assert first.replica.rows(table) == second.replica.rows(table)
    items = await item_rows(inspection)
    assert set(items) == {tea, cola, rival}
    assert (items[tea]["facings"], items[tea]["note"], items[tea]["shelf_price_minor"]) == (5, "first phone", 470)
    assert items[cola]["present"] is False
    assert (items[rival]["facings"], items[rival]["shelf_price_minor"]) == (6, 520)
    replica = first.replica.rows("inspection_item")
    assert {r["product_id"] for r in replica.values() if r["inspection_id"] == inspection} == {tea, cola, rival}
    await second.sync()
    assert first.server_checksum == first.checksum() and second.server_checksum == second.checksum()


async def test_an_item_id_not_derived_from_its_inspection_and_product_is_refused(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    stray = phone.create("inspection_item", inspection_id=inspection, product_id=tea, present=False)
    await phone.sync()
    refused = {(c.row, r.code) for c, r in phone.rejected}
    assert (stray, "sync.invalid_value") in refused
    assert await item_rows(inspection) == {}


async def test_an_items_product_and_an_inspections_visit_cannot_change(world, client):
    t = world.own
    tea, cola = await product(t), await product(t)
    phone = Device(client, t.tokens["rep"])
    visit, inspection = start_inspection(phone, t)
    row = audit(phone, inspection, tea, present=True)
    await phone.sync()
    other_visit, _ = start_inspection(phone, t)
    phone.edit("inspection_item", row, product_id=cola)
    phone.edit("inspection", inspection, visit_id=other_visit)
    await phone.sync()
    refused = {(c.table, c.column) for c, _ in phone.rejected}
    assert {("inspection_item", "product_id"), ("inspection", "visit_id")} <= refused
    assert (await inspection_row(inspection))["visit_id"] == uuid.UUID(visit)
    assert set(await item_rows(inspection)) == {tea}


async def test_an_inspection_must_be_of_its_visits_store(world, client):
    t = world.own
    phone = Device(client, t.tokens["rep"])
    visit, _ = start_inspection(phone, t)
    wrong = phone.create("inspection", visit_id=visit, store_id=str(t.ids["store2"]), started_at="2026-11-23T02:00:00Z")
    await phone.sync()
    refused = {(c.column, r.code, r.field) for c, r in phone.rejected if c.row == wrong}
    assert ("store_id", "sync.invalid_value", "store_id") in refused
    assert not await Inspection.exists().where(Inspection.id == uuid.UUID(wrong)).run()


async def test_an_inspection_is_deleted_with_its_items_in_one_push_but_not_without(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    row = audit(phone, inspection, tea, present=True)
    await phone.sync()
    phone.delete("inspection", inspection)
    await phone.sync()
    assert [r.code for _, r in phone.rejected] == ["sync.not_allowed"]
    assert await Inspection.exists().where(Inspection.id == uuid.UUID(inspection)).run()
    phone.rejected.clear()
    await phone.sync()  # the refused deletion came back from the server: the inspection is live again
    phone.delete("inspection_item", row)
    phone.delete("inspection", inspection)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    assert not await Inspection.exists().where(Inspection.id == uuid.UUID(inspection)).run()
    assert await item_rows(inspection) == {}


async def test_a_supervisor_cannot_write_inspections_and_a_rep_cannot_add_to_anothers(world, client):
    t = world.own
    tea = await product(t)
    rep = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(rep, t)
    await rep.sync()
    boss = Device(client, t.tokens["supervisor"])
    audit(boss, inspection, tea, present=False)
    other = Device(client, t.tokens["rep2"])
    audit(other, inspection, tea, present=False)
    await boss.sync()
    await other.sync()
    assert {r.code for _, r in boss.rejected} == {"sync.not_allowed"}
    assert {r.code for _, r in other.rejected} == {"sync.no_such_row"}
    assert await item_rows(inspection) == {}


async def push(phone: Device) -> list[tuple[str, str, str | None]]:
    """Send the outbox as one push; (table, column, code) of each change, code None when accepted."""
    answer = await phone.request(list(phone.outbox))
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    return [(c.table, c.column, r.get("code")) for c, r in zip(phone.outbox, results, strict=True)]


async def test_deleting_an_inspection_while_adding_an_item_to_it_keeps_both(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    await phone.sync()
    audit(phone, inspection, tea, present=True)
    phone.delete("inspection", inspection)
    assert ("inspection", "_cl", "sync.not_allowed") in await push(phone)
    assert await Inspection.exists().where(Inspection.id == uuid.UUID(inspection)).run()


async def test_a_stale_item_deletion_does_not_let_its_inspection_go(world, client):
    t = world.own
    tea = await product(t)
    phone, other = Device(client, t.tokens["rep"]), Device(client, t.tokens["rep"])
    _, inspection = start_inspection(phone, t)
    row = audit(phone, inspection, tea, present=True)
    await phone.sync()
    await other.sync()
    other.delete("inspection_item", row)
    other.edit("inspection_item", row, _cl=3)  # deleted and restored on the other phone: causal length 3
    await other.sync()
    phone.delete("inspection_item", row)  # 2: loses to 3
    phone.delete("inspection", inspection)
    assert ("inspection", "_cl", "sync.not_allowed") in await push(phone)
    assert set(await item_rows(inspection)) == {tea}


async def test_nothing_comes_back_without_the_row_it_needs(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    visit, inspection = start_inspection(phone, t)
    row = audit(phone, inspection, tea, present=True)
    await phone.sync()
    phone.delete("inspection_item", row)
    phone.delete("inspection", inspection)
    phone.delete("visit", visit)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    phone.outbox.clear()
    phone.edit("inspection_item", row, _cl=3)
    phone.edit("inspection", inspection, _cl=3)
    assert await push(phone) == [
        ("inspection_item", "_cl", "sync.no_such_row"),
        ("inspection", "_cl", "sync.no_such_row"),
    ]


async def test_an_item_of_a_refused_new_inspection_is_refused_too(world, client):
    t = world.own
    tea = await product(t)
    phone = Device(client, t.tokens["rep"])
    visit = phone.create("visit", **check_in(t.ids["store"], utcnow(), STORE_LAT, STORE_LNG))
    inspection = phone.create("inspection", visit_id=visit, store_id=str(t.ids["store"]))  # no started_at
    audit(phone, inspection, tea, present=True)
    codes = {(table, code) for table, _, code in await push(phone)}
    assert ("inspection", "sync.incomplete_row") in codes and ("inspection_item", "sync.no_such_row") in codes
    assert ("inspection_item", None) not in codes
