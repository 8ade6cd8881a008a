"""Product and assortment CSV import: all rows or none, every bad row and column reported; exports round-trip."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any, get_args

import pytest

from backend.catalog.barcodes import with_check_digit
from backend.csv_files import format_amount, parse_amount
from backend.stores.schemas import Channel
from tests.sync_device import Device

PRODUCTS = "code,name,brand,category,pack_size,barcode,rrp,own_brand,active"
ASSORTMENTS = "product_code,store_code,chain,channel,min_facings,rrp,price_tolerance_pct"
TARGETS = ("store_code", "chain", "channel")
SKU_1_BARCODE = with_check_digit("690123456789")  # tests/world.py


def csv_text(header: str, *rows: dict[str, Any]) -> str:
    columns = header.split(",")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


def product(code: str, **cells: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Tea {code}", "brand": "Acme", "category": "Beverages", "own_brand": "yes", **cells}


def barcode(seed: int) -> str:
    return with_check_digit(f"69{seed:010d}")


async def post_csv(client: Any, headers: dict[str, str], what: str, text: str | bytes, **params: Any) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return await client.post(
        f"/api/v1/{what}/import", content=body, params=params, headers={**headers, "Content-Type": "text/csv"}
    )


async def export(client: Any, headers: dict[str, str], what: str) -> str:
    response = await client.get(f"/api/v1/{what}/export", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


async def find_product(client: Any, headers: dict[str, str], code: str) -> dict[str, Any]:
    items = (await client.get("/api/v1/products", params={"q": code}, headers=headers)).json()["items"]
    return next(p for p in items if p["code"] == code)


def fields(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "import.invalid_rows"
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_amounts_convert_exactly_in_the_currencys_minor_units():
    assert parse_amount("4.5", "CNY") == 450
    assert parse_amount("4.50", "CNY") == parse_amount("4.500", "CNY") == 450
    assert parse_amount("19.99", "EUR") == 1999  # not 1998.9999 as a float would give
    assert parse_amount("450", "JPY") == 450
    assert parse_amount("1.234", "KWD") == 1234
    for text, currency, message in (
        ("4.505", "CNY", "has more decimals than CNY allows"),
        ("4.5", "JPY", "has more decimals than JPY allows"),
        ("-1", "CNY", "is not an amount"),
        ("4,50", "CNY", "is not an amount"),
        ("¥4.50", "CNY", "is not an amount"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_amount(text, currency)
    assert format_amount(450, "CNY") == "4.50"
    assert format_amount(5, "CNY") == "0.05"
    assert format_amount(450, "JPY") == "450"
    assert format_amount(None, "CNY") == ""
    for minor in (0, 1, 99, 100, 123456789):
        assert parse_amount(format_amount(minor, "CNY"), "CNY") == minor


async def test_a_good_products_file_creates_and_updates(world, client):
    headers = world.own.auth("admin")
    upc = with_check_digit("03600029145")  # a UPC-A: 12 digits
    text = csv_text(
        PRODUCTS,
        product("IMP-1", barcode=upc, rrp="4.5", pack_size="500 ml", active="true"),
        product("SKU-1", name="Jasmine tea 1 l", barcode=SKU_1_BARCODE, rrp="6", own_brand="0"),
    )
    response = await post_csv(client, headers, "products", text)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 1, "updated": 1}
    created = await find_product(client, headers, "IMP-1")
    assert (created["barcode"], created["rrp_minor"], created["pack_size"]) == (upc, 450, "500 ml")
    assert created["own_brand"] is True and created["active"] is True
    updated = (await client.get(f"/api/v1/products/{world.own.ids['product']}", headers=headers)).json()
    assert (updated["name"], updated["rrp_minor"], updated["own_brand"]) == ("Jasmine tea 1 l", 600, False)
    device = Device(client, world.own.tokens["rep"])  # devices receive what the import wrote
    await device.sync()
    assert device.replica.rows("product")[created["id"]]["rrp_minor"] == 450
    assert device.replica.rows("product")[str(world.own.ids["product"])]["name"] == "Jasmine tea 1 l"


async def test_columns_left_out_stay_and_empty_cells_clear(world, client):
    headers = world.own.auth("admin")
    first = csv_text(PRODUCTS, product("IMP-2", barcode=barcode(2), rrp="3.20", pack_size="6 x 330 ml"))
    assert (await post_csv(client, headers, "products", first)).status_code == 200
    renamed = csv_text("code,name,brand,category,own_brand", product("IMP-2", name="Renamed"))
    assert (await post_csv(client, headers, "products", renamed)).json() == {"created": 0, "updated": 1}
    kept = await find_product(client, headers, "IMP-2")
    assert (kept["name"], kept["barcode"], kept["rrp_minor"], kept["pack_size"]) == (
        "Renamed",
        barcode(2),
        320,
        "6 x 330 ml",
    )
    cleared = csv_text(PRODUCTS, product("IMP-2", barcode="", rrp="", pack_size=""))
    assert (await post_csv(client, headers, "products", cleared)).status_code == 200
    gone = await find_product(client, headers, "IMP-2")
    assert (gone["barcode"], gone["rrp_minor"], gone["pack_size"]) == (None, None, "")


async def test_every_bad_product_row_is_listed_and_nothing_is_written(world, client):
    headers = world.own.auth("admin")
    before = await export(client, headers, "products")
    good = barcode(3)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    text = csv_text(
        PRODUCTS,
        product("IMP-10", barcode=good),
        product("IMP-11", barcode=wrong),
        product("IMP-10", rrp="4.505"),
        product("IMP-12", barcode=good, own_brand="maybe"),
        product("IMP-13", barcode=SKU_1_BARCODE, name="", active="perhaps"),
        product("bad code!", rrp="12,50", own_brand=""),
        product("IMP-14", barcode="12345", rrp="abc"),
    )
    errors = fields(await post_csv(client, headers, "products", text))
    assert errors == {
        "rows[3].barcode": f"check digit is {wrong[-1]}, expected {good[-1]}",
        "rows[4].code": "'IMP-10' appears already on line 2",
        "rows[4].rrp": "has more decimals than CNY allows",
        "rows[5].barcode": f"{good!r} appears already on line 2",
        "rows[5].own_brand": "use true or false",
        "rows[6].name": "is required",
        "rows[6].active": "use true or false",
        "rows[6].barcode": f"{SKU_1_BARCODE!r} is the barcode of product 'SKU-1' already",
        "rows[7].code": errors["rows[7].code"],
        "rows[7].rrp": "is not an amount like 12.50 (digits, a dot for decimals)",
        "rows[7].own_brand": "is required: true or false",
        "rows[8].barcode": "must be 13 digits (EAN-13) or 12 (UPC-A), not 5",
        "rows[8].rrp": "is not an amount like 12.50 (digits, a dot for decimals)",
    }
    assert "matching regex" in errors["rows[7].code"]
    assert await export(client, headers, "products") == before


async def test_a_upc_a_is_the_same_barcode_as_its_ean_13(world, client):
    headers = world.own.auth("admin")
    upc = with_check_digit("04210000526")
    assert (await post_csv(client, headers, "products", csv_text(PRODUCTS, product("IMP-20", barcode=upc)))).json()
    again = await post_csv(client, headers, "products", csv_text(PRODUCTS, product("IMP-21", barcode="0" + upc)))
    assert fields(again) == {"rows[2].barcode": f"'0{upc}' is the barcode of product 'IMP-20' already"}


async def test_products_of_one_file_may_swap_barcodes(world, client):
    headers = world.own.auth("admin")
    a, b = barcode(31), barcode(32)
    text = csv_text(PRODUCTS, product("IMP-30", barcode=a), product("IMP-31", barcode=b))
    assert (await post_csv(client, headers, "products", text)).status_code == 200
    swapped = csv_text(PRODUCTS, product("IMP-30", barcode=b), product("IMP-31", barcode=a))
    assert (await post_csv(client, headers, "products", swapped)).json() == {"created": 0, "updated": 2}
    assert (await find_product(client, headers, "IMP-30"))["barcode"] == b


async def test_header_encoding_and_content_type_problems(world, client):
    headers = world.own.auth("admin")
    for what, header in (("products", PRODUCTS), ("assortments", ASSORTMENTS)):
        bad_header = await post_csv(client, headers, what, "code,colour\nX,red\n")
        assert bad_header.status_code == 400 and bad_header.json()["code"] == "import.header"
        messages = {e["message"] for e in bad_header.json()["errors"]}
        assert "unknown column 'colour'" in messages
        latin1 = (header + "\n" + "Caf\u00e9," * (header.count(",")) + "x\n").encode("latin-1")
        not_utf8 = await post_csv(client, headers, what, latin1)
        assert not_utf8.status_code == 400 and not_utf8.json()["code"] == "import.encoding"
        empty = await post_csv(client, headers, what, header + "\n")
        assert empty.status_code == 400 and empty.json()["code"] == "import.empty"
        nothing = await post_csv(client, headers, what, "")
        assert nothing.status_code == 400 and nothing.json()["code"] == "import.header"
        as_json = await client.post(f"/api/v1/{what}/import", json={"rows": []}, headers=headers)
        assert as_json.status_code == 400 and as_json.json()["code"] == "import.content_type"
    missing = await post_csv(client, headers, "products", "code,name\nX,Y\n")
    assert {e["message"] for e in missing.json()["errors"]} == {
        "missing column 'brand'",
        "missing column 'category'",
        "missing column 'own_brand'",
    }
    bom = await post_csv(client, headers, "products", "\ufeff" + csv_text(PRODUCTS, product("IMP-40")))
    assert bom.status_code == 200, bom.text


async def test_product_export_round_trips_through_import(world, client):
    headers = world.own.auth("admin")
    exported = await export(client, headers, "products")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows and all(r["rrp"] == "" or "." in r["rrp"] for r in rows)  # CNY: two decimals
    again = await post_csv(client, headers, "products", exported)
    assert again.json() == {"created": 0, "updated": len(rows)}
    assert await export(client, headers, "products") == exported
    other = await export(client, world.other.auth("rep"), "products")  # every role reads its own organisation's
    other_codes = {r["code"] for r in csv.DictReader(io.StringIO(other))}
    assert "SKU-1" in other_codes and not {r["code"] for r in rows if r["code"] != "SKU-1"} & other_codes


async def test_only_an_admin_imports(world, client):
    for role in ("rep", "supervisor"):
        headers = world.own.auth(role)
        for what, text in (
            ("products", csv_text(PRODUCTS, product("IMP-50"))),
            ("assortments", csv_text(ASSORTMENTS, {"product_code": "SKU-1", "chain": "Lawson"})),
        ):
            response = await post_csv(client, headers, what, text)
            assert response.status_code == 403 and response.json()["code"] == "auth.forbidden"
    assert "IMP-50" not in await export(client, world.own.auth("admin"), "products")


async def assortment_rows(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/assortments", params={"limit": 500}, headers=headers)
    return response.json()["items"]


async def test_a_good_assortments_file_creates_and_updates(world, client):
    headers = world.own.auth("admin")
    text = csv_text(
        ASSORTMENTS,
        {"product_code": "SKU-1", "chain": "FamilyMart", "min_facings": "3", "rrp": "4.2"},
        {"product_code": "SKU-1", "store_code": "STORE-1", "rrp": "4.80", "price_tolerance_pct": "2.5"},
        {"product_code": "SKU-1", "channel": "hypermarket"},
    )
    response = await post_csv(client, headers, "assortments", text)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 1, "deleted": 0}
    rules = await assortment_rows(client, headers)
    by_target = {(r["store_id"], r["chain"], r["channel"]): r for r in rules}
    chain = by_target[(None, "FamilyMart", None)]
    assert chain["id"] == str(world.own.ids["assortment"])
    assert (chain["min_facings"], chain["rrp_minor"]) == (3, 420)
    store = by_target[(str(world.own.ids["store"]), None, None)]
    assert (store["rrp_minor"], store["price_tolerance_pct"], store["min_facings"]) == (480, 2.5, 1)
    channel = by_target[(None, None, "hypermarket")]
    assert (channel["rrp_minor"], channel["price_tolerance_pct"]) == (None, 5.0)
    device = Device(client, world.own.tokens["rep"])
    await device.sync()
    assert device.replica.rows("assortment")[store["id"]]["rrp_minor"] == 480


async def test_every_bad_assortment_row_is_listed_and_nothing_is_written(world, client):
    headers = world.own.auth("admin")
    foreign = await client.post(
        "/api/v1/products",
        json={"code": "ONLY-OTHER", "name": "Cola", "brand": "Globex", "category": "Soda", "own_brand": True},
        headers=world.other.auth("admin"),
    )
    assert foreign.status_code == 201, foreign.text
    before = await export(client, headers, "assortments")
    text = csv_text(
        ASSORTMENTS,
        {"product_code": "SKU-1", "chain": "Lawson"},
        {"product_code": "SKU-1", "store_code": "NOPE"},
        {"product_code": "ONLY-OTHER", "chain": "Lawson"},
        {"product_code": "SKU-1", "chain": "Lawson", "min_facings": "1"},
        {"product_code": "SKU-1"},
        {"product_code": "SKU-1", "store_code": "STORE-1", "channel": "online"},
        {"product_code": "", "channel": "spaceport", "min_facings": "101", "price_tolerance_pct": "-1", "rrp": "1.005"},
        {"product_code": "SKU-1", "store_code": "STORE3-1", "min_facings": "two"},
    )
    errors = fields(await post_csv(client, headers, "assortments", text))
    assert errors == {
        "rows[3].store_code": "no store with code 'NOPE'",
        "rows[4].product_code": "no product with code 'ONLY-OTHER'",
        "rows[5].chain": "product 'SKU-1' with chain 'Lawson' appears already on line 2",
        "rows[6].store_code": "give exactly one of store_code, chain or channel",
        "rows[7].channel": "give only one of store_code, chain or channel (store_code is set)",
        "rows[8].product_code": "is required",
        "rows[8].channel": "'spaceport' is not a channel: use one of " + ", ".join(get_args(Channel)),
        "rows[8].min_facings": "Expected `int` <= 100",
        "rows[8].price_tolerance_pct": "Expected `float` >= 0.0",
        "rows[8].rrp": "has more decimals than CNY allows",
        "rows[9].min_facings": "Expected `int`, got `str`",
    }
    assert await export(client, headers, "assortments") == before


def target_order(row: dict[str, str]) -> tuple[str, int, str]:
    kind = next(i for i, column in enumerate(TARGETS) if row[column])
    return row["product_code"], kind, row[TARGETS[kind]]


async def test_assortment_export_round_trips_through_import(world, client):
    headers = world.own.auth("admin")
    setup = csv_text(
        ASSORTMENTS,
        {"product_code": "SKU-1", "store_code": "STORE2-1", "rrp": "5.10", "price_tolerance_pct": "7.25"},
        {"product_code": "SKU-1", "chain": "Alpha"},
    )
    assert (await post_csv(client, headers, "assortments", setup)).status_code == 200
    exported = await export(client, headers, "assortments")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == len(await assortment_rows(client, headers))
    assert rows == sorted(rows, key=target_order)
    store_rule = next(r for r in rows if r["store_code"] == "STORE2-1")
    assert (store_rule["rrp"], store_rule["price_tolerance_pct"], store_rule["min_facings"]) == ("5.10", "7.25", "1")
    again = await post_csv(client, headers, "assortments", exported)
    assert again.json() == {"created": 0, "updated": len(rows), "deleted": 0}
    assert await export(client, headers, "assortments") == exported


async def test_replace_deletes_only_this_organisations_rules_left_out(world, client):
    headers = world.own.auth("admin")
    extra = await client.post(
        "/api/v1/assortments",
        json={"product_id": str(world.own.ids["product"]), "chain": f"Leftover-{uuid.uuid4().hex[:6]}"},
        headers=headers,
    )
    assert extra.status_code == 201, extra.text
    device = Device(client, world.own.tokens["admin"])
    await device.sync()
    assert extra.json()["id"] in device.replica.rows("assortment")
    other_before = await export(client, world.other.auth("admin"), "assortments")
    kept = [line for line in (await export(client, headers, "assortments")).splitlines() if "Leftover-" not in line]
    response = await post_csv(client, headers, "assortments", "\n".join(kept) + "\n", replace="true")
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 0, "updated": len(kept) - 1, "deleted": 1}
    ids = {r["id"] for r in await assortment_rows(client, headers)}
    assert extra.json()["id"] not in ids and str(world.own.ids["assortment"]) in ids
    assert await export(client, world.other.auth("admin"), "assortments") == other_before
    await device.sync()
    assert extra.json()["id"] not in device.replica.rows("assortment")
    without = await post_csv(client, headers, "assortments", kept[0] + "\n" + kept[1] + "\n")
    assert without.json()["deleted"] == 0  # replace is off by default


async def test_an_oversize_file_is_413(world, client, settings):
    body = (PRODUCTS + "\n").encode() + b"x" * settings.max_import_bytes
    for what in ("products", "assortments"):
        response = await post_csv(client, world.own.auth("admin"), what, body)
        assert response.status_code == 413 and response.json()["code"] == "request.too_large"
