"""Reading inspections over REST: who sees which, the detail with items, the rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.backend.inspections.factories import audit, product, start_inspection
from tests.sync_device import Device

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def make_inspection(client, tenant, at: dt.datetime | None = None) -> tuple[str, str, str]:
    """A synced inspection of the tenant's rep: (inspection, product audited, product out of stock)."""
    tea, cola = await product(tenant, min_facings=2), await product(tenant)
    phone = Device(client, tenant.tokens["rep"])
    _, inspection = start_inspection(phone, tenant, at=at)
    audit(phone, inspection, tea, present=True, facings=2, shelf_price_minor=450)
    audit(phone, inspection, cola, present=False)
    await phone.sync()
    assert not phone.rejected, phone.rejected
    return inspection, tea, cola


async def test_the_detail_lists_items_must_stock_first_and_what_was_not_audited(world, client):
    t = world.own
    inspection, tea, cola = await make_inspection(client, t)
    answer = await client.get(f"/api/v1/inspections/{inspection}", headers=t.auth("rep"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    summary = body["inspection"]
    assert (summary["items"], summary["out_of_stock"], summary["must_stock_out_of_stock"]) == (2, 1, 1)
    assert summary["store_name"] == "Acme Foods store" and summary["rep_name"] == "Rep"
    assert summary["assortment_compliance"] is not None
    by_product = {i["product_id"]: i for i in body["items"]}
    assert by_product[tea]["must_stock"] is True and by_product[tea]["price_ok"] is True
    assert by_product[cola]["present"] is False
    # The world's chain product is must-stock at this store and was not looked at.
    assert str(t.ids["product"]) in body["not_audited"]


async def test_who_sees_an_inspection(world, client):
    t = world.own
    inspection, _, _ = await make_inspection(client, t)
    for who, status in (("rep", 200), ("supervisor", 200), ("admin", 200), ("rep2", 404), ("supervisor2", 404)):
        answer = await client.get(f"/api/v1/inspections/{inspection}", headers=t.auth(who))
        assert answer.status_code == status, (who, answer.text)
    for who in ("rep", "supervisor", "admin"):
        answer = await client.get(f"/api/v1/inspections/{inspection}", headers=world.other.auth(who))
        assert answer.status_code == 404
    listed = await client.get("/api/v1/inspections", headers=t.auth("rep2"))
    assert inspection not in {i["id"] for i in listed.json()["items"]}
    listed = await client.get("/api/v1/inspections", headers=world.other.auth("admin"))
    assert inspection not in {i["id"] for i in listed.json()["items"]}


async def test_the_list_filters_by_store_and_local_dates(world, client):
    t = world.own
    late = dt.datetime(2030, 3, 9, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC: still the 9th in Shanghai
    inspection, _, _ = await make_inspection(client, t, at=late)
    query = {"store_id": str(t.ids["store"]), "date_from": "2030-03-09", "date_to": "2030-03-09"}
    answer = await client.get("/api/v1/inspections", params=query, headers=t.auth("supervisor"))
    assert [i["id"] for i in answer.json()["items"]] == [inspection]
    query["date_from"] = query["date_to"] = "2030-03-10"
    answer = await client.get("/api/v1/inspections", params=query, headers=t.auth("supervisor"))
    assert answer.json()["items"] == []
    answer = await client.get("/api/v1/inspections", params={"date_from": "yesterday"}, headers=t.auth("rep"))
    assert answer.status_code == 400 and "date_from" in answer.text


async def test_rules_are_read_by_everyone_and_changed_by_admins_only(world, client):
    t = world.own
    answer = await client.get("/api/v1/inspection-rules", headers=t.auth("rep"))
    assert answer.status_code == 200 and answer.json()["weights"]["assortment"] == 40.0
    zero = {"weights": {"assortment": 0, "availability": 0, "facings": 0, "price": 0, "share_of_shelf": 0}}
    answer = await client.put("/api/v1/inspection-rules", json=zero, headers=t.auth("admin"))
    assert answer.status_code == 400 and "weight" in answer.text
    answer = await client.put("/api/v1/inspection-rules", json={"hotspot_min_stores": 1}, headers=t.auth("admin"))
    assert answer.status_code == 400 and "hotspot_min_stores" in answer.text
    answer = await client.put(
        "/api/v1/inspection-rules", json={"expiry_warning_days": 10}, headers=t.auth("supervisor")
    )
    assert answer.status_code == 403
    answer = await client.put("/api/v1/inspection-rules", json={"expiry_warning_days": 10}, headers=t.auth("admin"))
    assert answer.status_code == 200 and answer.json()["expiry_warning_days"] == 10
    other = await client.get("/api/v1/inspection-rules", headers=world.other.auth("admin"))
    assert other.json()["expiry_warning_days"] == 7
    await client.put("/api/v1/inspection-rules", json={}, headers=t.auth("admin"))
