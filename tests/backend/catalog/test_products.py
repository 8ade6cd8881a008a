"""Finding products by what a scanner returns (a UPC-A, the same GTIN as EAN-13, or a GTIN-14); an assortment's
shelf price."""

from __future__ import annotations

from typing import Any

from backend.catalog.barcodes import with_check_digit
from backend.catalog.services import barcode_forms, gtin13

UPC_STORED = with_check_digit("07800000001")  # a UPC-A product, stored as 12 digits
EAN_STORED = "0" + with_check_digit("07800000002")  # a UPC-A product, stored as EAN-13 with its leading 0


async def create(client: Any, headers: dict[str, str], code: str, barcode: str) -> Any:
    body = {"code": code, "name": f"Crackers {code}", "brand": "Acme", "category": "Snacks", "own_brand": True}
    return await client.post("/api/v1/products", json={**body, "barcode": barcode}, headers=headers)


async def found(client: Any, headers: dict[str, str], **params: str) -> set[str]:
    response = await client.get("/api/v1/products", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {p["code"] for p in response.json()["items"]}


def test_gtins_compare_as_13_digits():
    assert gtin13("036000291452") == "0036000291452"
    assert gtin13("0036000291452") == "0036000291452"
    assert gtin13("00036000291452") == "0036000291452"  # GTIN-14 with indicator 0
    assert gtin13("10036000291459") == "10036000291459"  # another packaging level: not the same item
    assert gtin13("96385074") == "0000096385074"  # EAN-8
    assert gtin13("SKU-1") == gtin13("SKU-1") == "SKU-1"
    assert barcode_forms("036000291452") == ["0036000291452", "036000291452"]
    assert barcode_forms("4006381333931") == ["4006381333931"]


async def test_a_barcode_finds_the_product_whichever_form_the_scanner_returns(world, client):
    headers = world.own.auth("admin")
    assert (await create(client, headers, "UPC-1", UPC_STORED)).status_code == 201
    assert (await create(client, headers, "EAN-1", EAN_STORED)).status_code == 201
    rep = world.own.auth("rep")
    for scanned in (UPC_STORED, "0" + UPC_STORED, "00" + UPC_STORED):
        assert await found(client, rep, barcode=scanned) == {"UPC-1"}, scanned
    for scanned in (EAN_STORED, EAN_STORED[1:], "0" + EAN_STORED):
        assert await found(client, rep, barcode=scanned) == {"EAN-1"}, scanned
    assert await found(client, rep, barcode=with_check_digit("07800000009")) == set()
    assert await found(client, world.other.auth("rep"), barcode=UPC_STORED) == set()  # another organisation's


async def test_digits_in_q_also_search_the_barcode(world, client):
    headers = world.own.auth("admin")
    await create(client, headers, "UPC-2", with_check_digit("07800000003"))
    await create(client, headers, "EAN-2", "0" + with_check_digit("07800000004"))
    rep = world.own.auth("rep")
    assert await found(client, rep, q=with_check_digit("07800000003")) == {"UPC-2"}
    assert await found(client, rep, q="0" + with_check_digit("07800000003")) == {"UPC-2"}  # EAN-13 form of a UPC
    assert await found(client, rep, q=with_check_digit("07800000004")) == {"EAN-2"}  # UPC form of an EAN-13
    assert {"UPC-2", "EAN-2"} <= await found(client, rep, q="780000000")  # part of the digits, as typed
    assert await found(client, rep, q="Crackers UPC-2") == {"UPC-2"}  # words still search the name


async def test_the_same_gtin_in_another_form_is_taken(world, client):
    headers = world.own.auth("admin")
    upc = with_check_digit("07800000005")
    assert (await create(client, headers, "UPC-3", upc)).status_code == 201
    again = await create(client, headers, "EAN-3", "0" + upc)
    assert again.status_code == 409 and again.json()["code"] == "product.barcode_taken"
    other = await create(client, world.other.auth("admin"), "EAN-3", "0" + upc)
    assert other.status_code == 201  # barcodes are unique per organisation


async def test_an_assortment_rule_keeps_its_own_shelf_price(world, client):
    headers = world.own.auth("admin")
    rule = {"product_id": str(world.own.ids["product"]), "channel": "pharmacy", "rrp_minor": 520}
    created = await client.post("/api/v1/assortments", json=rule, headers=headers)
    assert created.status_code == 201 and created.json()["rrp_minor"] == 520
    url = f"/api/v1/assortments/{created.json()['id']}"
    assert (await client.patch(url, json={"min_facings": 2}, headers=headers)).json()["rrp_minor"] == 520
    assert (await client.patch(url, json={"rrp_minor": None}, headers=headers)).json()["rrp_minor"] is None
    assert (await client.patch(url, json={"rrp_minor": -1}, headers=headers)).status_code == 400
    default = await client.get(f"/api/v1/assortments/{world.own.ids['assortment']}", headers=headers)
    assert default.json()["rrp_minor"] is None  # the product's RRP applies
