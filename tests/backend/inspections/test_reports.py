"""Shelf-inspection reports through HTTP: exact figures from known audits, scoped to the caller.

The shelves (own organisation, Asia/Shanghai = UTC+8): `store` and `store2` (chain FamilyMart) lie in the
territory Jing'an, which `supervisor` supervises; `store3` (chain Lawson) has no territory. In the week of Monday
2025-06-02 four inspections count (times below are local):

    I1 rep   store   Mon 09:00  Jasmine present (+10 %, outside tolerance), Oolong OUT, Green present (-2 %)
    I2 rep2  store2  Tue 01:30  Jasmine OUT, Oolong OUT, Green present (+4 %)      (Monday 17:30 in UTC)
    I3 rep3  store3  Tue 11:00  Jasmine OUT, Oolong present (-8 %, outside)        (no started_at: created_at)
    I4 rep3  store   Wed 10:00  Jasmine OUT, Oolong present (0 %)

I5 (Sunday 23:59:59, rep, Jasmine OUT) and I6 (the next Monday 00:00, rep, Jasmine OUT) lie just outside the
week. Jasmine and Oolong are must-stock at the FamilyMart stores. The other organisation has an out-of-stock audit
in the same week that must never appear.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.catalog.tables import Product
from backend.inspections.rules import InspectionRules, set_inspection_rules
from backend.inspections.tables import Inspection, InspectionItem
from backend.orgs.tables import Organization
from backend.stores.tables import Store, Territory
from backend.tables_base import utcnow
from backend.visits.tables import Visit
from tests.world import Tenant, World

BASE = "/api/v1/reports/inspections"
WEEK = {"date_from": "2025-06-02", "date_to": "2025-06-08"}
ZONE = ZoneInfo("Asia/Shanghai")
SCORES = ("oos_rate", "assortment_compliance", "facings_compliance", "price_compliance", "share_of_shelf", "score")


def local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=ZONE).astimezone(dt.UTC)


def item(product: uuid.UUID, present: bool = True, **fields: Any) -> dict[str, Any]:
    return {"product_id": product, "present": present, **fields}


async def inspect(
    t: Tenant,
    rep: str,
    store: str,
    at: dt.datetime,
    items: list[dict[str, Any]],
    *,
    started: bool = True,
    **scores: float | None,
) -> uuid.UUID:
    """A visit and its inspection with `items`, stored as the server leaves them (scores and price checks set)."""
    visit = Visit(org_id=t.org_id, rep_id=t.users[rep], store_id=t.ids[store], state="checked_out", check_in_at=at)
    await visit.save().run()
    inspection = Inspection(
        org_id=t.org_id,
        visit_id=visit.id,
        store_id=t.ids[store],
        rep_id=t.users[rep],
        started_at=at if started else None,
        created_at=at,
        **scores,
    )
    await inspection.save().run()
    for fields in items:
        await InspectionItem(org_id=t.org_id, inspection_id=inspection.id, **fields).save().run()
    return inspection.id


async def add_product(t: Tenant, key: str, code: str, name: str) -> uuid.UUID:
    product = Product(org_id=t.org_id, code=code, name=name, brand="Demo", category="Beverages")
    await product.save().run()
    t.ids[key] = product.id
    return product.id


def priced(pct: float, ok: bool) -> dict[str, Any]:
    """A shelf price `pct` percent off a reference of 4.50 with a 5 % tolerance, as scoring leaves it."""
    return {
        "shelf_price_minor": round(450 * (1 + pct / 100)),
        "reference_price_minor": 450,
        "price_tolerance_pct": 5.0,
        "price_deviation_pct": pct,
        "price_ok": ok,
    }


@pytest.fixture(scope="module")
async def shelves(world: World) -> dict[str, Any]:
    t, o = world.own, world.other
    await (
        Store.update({Store.territory_id: t.ids["territory"]})
        .where(Store.id.is_in([t.ids["store"], t.ids["store2"]]))
        .run()
    )
    await Store.update({Store.chain: "Lawson"}).where(Store.id == t.ids["store3"]).run()
    xuhui = Territory(org_id=t.org_id, name="Xuhui", supervisor_id=t.users["supervisor2"])
    await xuhui.save().run()
    t.ids["xuhui"] = xuhui.id
    jasmine = t.ids["product"]  # "Jasmine tea 500ml", SKU-1
    oolong = await add_product(t, "oolong", "SKU-2", "Oolong tea 330ml")
    green = await add_product(t, "green", "SKU-3", "Green tea 500ml")
    monday = dt.date(2025, 6, 2)
    must = {"must_stock": True}
    await inspect(
        t,
        "rep",
        "store",
        local(monday, 9),
        [item(jasmine, **must, **priced(10.0, False)), item(oolong, False, **must), item(green, **priced(-2.0, True))],
        oos_rate=0.25,
        assortment_compliance=1.0,
        facings_compliance=0.5,
        score=0.8,
    )
    await inspect(
        t,
        "rep2",
        "store2",
        local(monday + dt.timedelta(days=1), 1, 30),
        [item(jasmine, False, **must), item(oolong, False, **must), item(green, **priced(4.0, True))],
        oos_rate=0.5,
        assortment_compliance=0.0,
        facings_compliance=1.0,
        price_compliance=0.5,
        score=0.4,
    )
    await inspect(
        t,
        "rep3",
        "store3",
        local(monday + dt.timedelta(days=1), 11),
        [item(jasmine, False), item(oolong, **priced(-8.0, False))],
        started=False,
    )
    await inspect(
        t,
        "rep3",
        "store",
        local(monday + dt.timedelta(days=2), 10),
        [item(jasmine, False, **must), item(oolong, **must, **priced(0.0, True))],
        oos_rate=0.5,
        assortment_compliance=0.5,
        price_compliance=1.0,
        share_of_shelf=0.25,
        score=0.6,
    )
    await inspect(t, "rep", "store", local(monday - dt.timedelta(days=1), 23, 59, 59), [item(jasmine, False)])
    await inspect(t, "rep", "store", local(monday + dt.timedelta(days=7), 0), [item(jasmine, False)])
    await Store.update({Store.territory_id: o.ids["territory"]}).where(Store.org_id == o.org_id).run()
    for store in ("store", "store2", "store3"):
        await inspect(o, "rep", store, local(monday, 10), [item(o.ids["product"], False)])
    return {"jasmine": jasmine, "oolong": oolong, "green": green}


async def report(client: Any, t: Tenant, who: str, kind: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{BASE}/{kind}", params={**WEEK, **params}, headers=t.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def figures(rows: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(row[name] for name in names) for row in rows]


STOCK = ("label", "audits", "out_of_stock", "oos_rate", "stores_audited", "stores_out")


# --- out of stock ---------------------------------------------------------------------------------------------


async def test_out_of_stock_by_product_counts_the_items_of_the_range(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock")
    assert body["by"] == "product" and body["time_zone"] == "Asia/Shanghai" and body["period"] == "day"
    assert figures(body["rows"], *STOCK) == [
        ("Jasmine tea 500ml", 4, 3, 0.75, 3, 3),
        ("Oolong tea 330ml", 4, 2, 0.5, 3, 2),
        ("Green tea 500ml", 2, 0, 0.0, 2, 0),
    ]
    assert [(r["key"], r["code"]) for r in body["rows"]] == [
        (str(shelves["jasmine"]), "SKU-1"),
        (str(shelves["oolong"]), "SKU-2"),
        (str(shelves["green"]), "SKU-3"),
    ]


async def test_out_of_stock_by_store_chain_and_territory(world, client, shelves):
    t = world.own
    by_store = await report(client, t, "admin", "out-of-stock", by="store")
    assert figures(by_store["rows"], *STOCK) == [
        ("Acme Foods store", 5, 2, 0.4, 1, 1),
        ("Acme Foods store2", 3, 2, 0.6667, 1, 1),
        ("Acme Foods store3", 2, 1, 0.5, 1, 1),
    ]
    assert [r["key"] for r in by_store["rows"]] == [str(t.ids[k]) for k in ("store", "store2", "store3")]
    assert by_store["rows"][0]["code"] == "STORE-1"
    by_chain = await report(client, t, "admin", "out-of-stock", by="chain")
    assert figures(by_chain["rows"], "key", *STOCK) == [
        ("FamilyMart", "FamilyMart", 8, 4, 0.5, 2, 2),
        ("Lawson", "Lawson", 2, 1, 0.5, 1, 1),
    ]
    by_territory = await report(client, t, "admin", "out-of-stock", by="territory")
    assert figures(by_territory["rows"], "key", *STOCK) == [
        (str(t.ids["territory"]), "Jing'an", 8, 4, 0.5, 2, 2),
        (None, "(no territory)", 2, 1, 0.5, 1, 1),
    ]


async def test_must_stock_only_counts_must_stock_items(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock", must_stock_only="true")
    assert body["must_stock_only"] is True
    # A tie on out of stock is broken by label.
    assert figures(body["rows"], *STOCK) == [
        ("Jasmine tea 500ml", 3, 2, 0.6667, 2, 2),
        ("Oolong tea 330ml", 3, 2, 0.6667, 2, 2),
    ]
    assert figures(body["trend"], "period_start", "audits", "out_of_stock")[:3] == [
        ("2025-06-02", 2, 1),
        ("2025-06-03", 2, 2),
        ("2025-06-04", 2, 1),
    ]


async def test_the_trend_is_per_local_day_up_to_31_days(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock")
    # I2 was made on Monday in UTC but on Tuesday in Shanghai; I5 and I6 lie a second and a day's start outside.
    assert figures(body["trend"], "period_start", "audits", "out_of_stock", "oos_rate") == [
        ("2025-06-02", 3, 1, 0.3333),
        ("2025-06-03", 5, 3, 0.6),
        ("2025-06-04", 2, 1, 0.5),
        ("2025-06-05", 0, 0, None),
        ("2025-06-06", 0, 0, None),
        ("2025-06-07", 0, 0, None),
        ("2025-06-08", 0, 0, None),
    ]


async def test_a_one_day_range_has_one_point(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock", date_from="2025-06-03", date_to="2025-06-03")
    assert figures(body["trend"], "period_start", "audits", "out_of_stock") == [("2025-06-03", 5, 3)]
    assert sum(r["audits"] for r in body["rows"]) == 5


async def test_the_trend_is_per_iso_week_beyond_31_days(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock", date_from="2025-05-29", date_to="2025-07-10")
    assert body["period"] == "week"
    # Weeks start on Mondays, the first one before date_from (a Thursday).
    assert figures(body["trend"], "period_start", "audits", "out_of_stock") == [
        ("2025-05-26", 1, 1),
        ("2025-06-02", 10, 5),
        ("2025-06-09", 1, 1),
        ("2025-06-16", 0, 0),
        ("2025-06-23", 0, 0),
        ("2025-06-30", 0, 0),
        ("2025-07-07", 0, 0),
    ]
    assert sum(p["audits"] for p in body["trend"]) == sum(r["audits"] for r in body["rows"]) == 12


async def test_the_trend_follows_daylight_saving_time(world, client, shelves):
    """New York leaves summer time at 02:00 on 2025-11-02: that day is 25 hours long. Audits the other organisation
    made just before and after each local midnight fall on their local day."""
    o = world.other
    at = [
        dt.datetime(2025, 11, 2, 3, 30, tzinfo=dt.UTC),  # Sat 1 Nov 23:30 EDT
        dt.datetime(2025, 11, 2, 4, 30, tzinfo=dt.UTC),  # Sun 2 Nov 00:30 EDT
        dt.datetime(2025, 11, 3, 4, 30, tzinfo=dt.UTC),  # Sun 2 Nov 23:30 EST (00:30 on the 3rd at summer time)
        dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC),  # Mon 3 Nov 00:30 EST
    ]
    for moment in at:
        await inspect(o, "rep", "store", moment, [item(o.ids["product"], False)])
    await Organization.update({Organization.time_zone: "America/New_York"}).where(Organization.id == o.org_id).run()
    try:
        body = await report(client, o, "admin", "out-of-stock", date_from="2025-11-01", date_to="2025-11-03")
    finally:
        await Organization.update({Organization.time_zone: "Asia/Shanghai"}).where(Organization.id == o.org_id).run()
    assert body["time_zone"] == "America/New_York"
    assert figures(body["trend"], "period_start", "audits") == [("2025-11-01", 1), ("2025-11-02", 2), ("2025-11-03", 1)]


async def test_hotspots_need_the_organisations_number_of_stores_in_one_territory(world, client, shelves):
    t = world.own
    body = await report(client, t, "admin", "out-of-stock")
    assert body["hotspot_min_stores"] == 3 and body["hotspots"] == []  # Jing'an has two stores
    await set_inspection_rules(t.org_id, InspectionRules(hotspot_min_stores=2))
    try:
        body = await report(client, t, "admin", "out-of-stock")
        supervised = await report(client, t, "supervisor", "out-of-stock")
        theirs = await report(client, t, "supervisor2", "out-of-stock")
    finally:
        await set_inspection_rules(t.org_id, InspectionRules())
    # Jasmine is out at store3 too, but store3 has no territory.
    expected = [
        {
            "product_id": str(shelves[key]),
            "product_code": code,
            "product_name": name,
            "territory_id": str(t.ids["territory"]),
            "territory_name": "Jing'an",
            "stores_out": 2,
            "stores_audited": 2,
        }
        for key, code, name in (("jasmine", "SKU-1", "Jasmine tea 500ml"), ("oolong", "SKU-2", "Oolong tea 330ml"))
    ]
    assert body["hotspot_min_stores"] == 2 and body["hotspots"] == expected
    assert supervised["hotspots"] == expected
    assert theirs["hotspots"] == []  # supervisor2 sees only one Jing'an store out (I4)


# --- compliance and prices ------------------------------------------------------------------------------------


async def test_compliance_averages_the_scores_leaving_out_nulls(world, client, shelves):
    t = world.own
    by_store = await report(client, t, "admin", "compliance")
    assert by_store["by"] == "store"
    assert figures(by_store["rows"], "label", "inspections", *SCORES) == [
        ("Acme Foods store", 2, 0.375, 0.75, 0.5, 1.0, 0.25, 0.7),
        ("Acme Foods store2", 1, 0.5, 0.0, 1.0, 0.5, None, 0.4),
        ("Acme Foods store3", 1, None, None, None, None, None, None),
    ]
    by_rep = await report(client, t, "admin", "compliance", by="rep")
    assert figures(by_rep["rows"], "key", "label", "inspections", "oos_rate", "facings_compliance", "score") == [
        (str(t.users["rep"]), "Rep", 1, 0.25, 0.5, 0.8),
        (str(t.users["rep2"]), "Rep2", 1, 0.5, 1.0, 0.4),
        (str(t.users["rep3"]), "Rep3", 2, 0.5, None, 0.6),
    ]
    by_chain = await report(client, t, "admin", "compliance", by="chain")
    assert figures(by_chain["rows"], "label", "inspections", *SCORES) == [
        ("FamilyMart", 3, 0.4167, 0.5, 0.75, 0.75, 0.25, 0.6),
        ("Lawson", 1, None, None, None, None, None, None),
    ]
    by_territory = await report(client, t, "admin", "compliance", by="territory")
    assert figures(by_territory["rows"], "key", "label", "inspections", "oos_rate") == [
        (None, "(no territory)", 1, None),
        (str(t.ids["territory"]), "Jing'an", 3, 0.4167),
    ]


PRICES = (
    "label",
    "priced_audits",
    "avg_deviation_pct",
    "avg_abs_deviation_pct",
    "min_deviation_pct",
    "max_deviation_pct",
    "within_tolerance",
    "out_of_tolerance",
    "within_tolerance_rate",
)


async def test_prices_compare_priced_audits_with_their_tolerance(world, client, shelves):
    t = world.own
    by_product = await report(client, t, "admin", "prices")
    assert figures(by_product["rows"], *PRICES) == [
        ("Jasmine tea 500ml", 1, 10.0, 10.0, 10.0, 10.0, 0, 1, 0.0),
        ("Oolong tea 330ml", 2, -4.0, 4.0, -8.0, 0.0, 1, 1, 0.5),
        ("Green tea 500ml", 2, 1.0, 3.0, -2.0, 4.0, 2, 0, 1.0),
    ]
    by_store = await report(client, t, "admin", "prices", by="store")
    assert figures(by_store["rows"], *PRICES) == [
        ("Acme Foods store", 3, 2.67, 4.0, -2.0, 10.0, 2, 1, 0.6667),
        ("Acme Foods store3", 1, -8.0, 8.0, -8.0, -8.0, 0, 1, 0.0),
        ("Acme Foods store2", 1, 4.0, 4.0, 4.0, 4.0, 1, 0, 1.0),
    ]
    by_chain = await report(client, t, "admin", "prices", by="chain")
    assert figures(by_chain["rows"], *PRICES) == [
        ("FamilyMart", 4, 3.0, 4.0, -2.0, 10.0, 3, 1, 0.75),
        ("Lawson", 1, -8.0, 8.0, -8.0, -8.0, 0, 1, 0.0),
    ]
    by_territory = await report(client, t, "admin", "prices", by="territory")
    assert figures(by_territory["rows"], "key", *PRICES[:2]) == [
        (None, "(no territory)", 1),
        (str(t.ids["territory"]), "Jing'an", 4),
    ]


# --- expiring stock -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def expiring_stock(world: World, shelves: dict[str, Any]) -> dict[str, Any]:
    """Audits of the last three days: only each (store, product)'s latest counts."""
    t = world.own
    today = utcnow().astimezone(ZONE).date()

    def day(n: int) -> dt.date:
        return today + dt.timedelta(days=n)

    jasmine, oolong, green = shelves["jasmine"], shelves["oolong"], shelves["green"]
    await inspect(
        t,
        "rep",
        "store",
        local(day(-2), 12),
        [item(jasmine, expiry_date=day(3), quantity=5), item(oolong, expiry_date=day(30), quantity=8)],
    )
    await inspect(t, "rep", "store", local(day(-1), 12), [item(jasmine, expiry_date=day(10), quantity=12)])
    await inspect(
        t, "rep2", "store2", local(day(-1), 12), [item(jasmine, expiry_date=day(-1), quantity=2), item(green)]
    )
    await inspect(t, "rep2", "store2", local(day(-2), 12), [item(green, expiry_date=day(1), quantity=3)])
    await inspect(t, "rep3", "store3", local(day(-2), 12), [item(oolong, expiry_date=day(2), quantity=1)])
    await inspect(t, "rep3", "store3", local(day(-1), 10), [item(oolong, False, expiry_date=day(0))])
    return {"from": day(-3).isoformat(), "to": today.isoformat()}


async def expiring(client: Any, t: Tenant, who: str, period: dict[str, Any], **params: Any) -> dict[str, Any]:
    return await report(client, t, who, "expiring", date_from=period["from"], date_to=period["to"], **params)


def listed(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    today = dt.date.fromisoformat(body["today"])
    rows = []
    for r in body["rows"]:
        assert r["days_left"] == (dt.date.fromisoformat(r["expiry_date"]) - today).days
        rows.append((r["store_name"], r["product_name"], r["days_left"], r["quantity"], r["rep_name"]))
    return rows


async def test_expiring_lists_the_latest_audit_of_each_store_and_product(world, client, expiring_stock):
    t = world.own
    body = await expiring(client, t, "admin", expiring_stock)
    # The default window is the organisation's expiry_warning_days (7). store's Jasmine expiring in 3 days was
    # restocked (the next audit saw 10 days); store2's Green tea and store3's Oolong were superseded by audits
    # with no expiry date and out of stock.
    assert body["within_days"] == 7
    assert listed(body) == [("Acme Foods store2", "Jasmine tea 500ml", -1, 2, "Rep2")]
    body = await expiring(client, t, "admin", expiring_stock, within_days=30)
    assert listed(body) == [
        ("Acme Foods store2", "Jasmine tea 500ml", -1, 2, "Rep2"),
        ("Acme Foods store", "Jasmine tea 500ml", 10, 12, "Rep"),
        ("Acme Foods store", "Oolong tea 330ml", 30, 8, "Rep"),
    ]
    first = body["rows"][0]
    assert first["store_id"] == str(t.ids["store2"]) and first["rep_id"] == str(t.users["rep2"])
    assert first["store_code"] == "STORE2-1" and first["product_code"] == "SKU-1"
    audited = dt.datetime.fromisoformat(first["audited_at"].replace("Z", "+00:00"))
    assert audited.astimezone(ZONE).time() == dt.time(12, 0)


async def test_expiring_is_scoped_like_the_other_reports(world, client, expiring_stock):
    t = world.own
    mine = await expiring(client, t, "rep", expiring_stock, within_days=30)
    assert [(r[0], r[1]) for r in listed(mine)] == [
        ("Acme Foods store", "Jasmine tea 500ml"),
        ("Acme Foods store", "Oolong tea 330ml"),
    ]
    assert listed(await expiring(client, t, "supervisor2", expiring_stock, within_days=30)) == []
    assert listed(await expiring(client, world.other, "admin", expiring_stock, within_days=30)) == []


async def test_nothing_expires_where_no_expiry_was_noted(world, client, shelves):
    assert (await report(client, world.own, "admin", "expiring", within_days=365))["rows"] == []


# --- CSV ------------------------------------------------------------------------------------------------------


def parse_csv(response: Any, filename: str) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    return list(csv.DictReader(io.StringIO(response.text)))


def as_text(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize(
    ("kind", "params", "part", "filename"),
    [
        ("out-of-stock", {"by": "store"}, "rows", "inspections-out-of-stock-by-store-2025-06-02-2025-06-08.csv"),
        ("out-of-stock", {"part": "trend"}, "trend", "inspections-out-of-stock-trend-2025-06-02-2025-06-08.csv"),
        ("compliance", {"by": "rep"}, "rows", "inspections-compliance-by-rep-2025-06-02-2025-06-08.csv"),
        ("prices", {"by": "territory"}, "rows", "inspections-prices-by-territory-2025-06-02-2025-06-08.csv"),
    ],
)
async def test_csv_matches_json(world, client, shelves, kind, params, part, filename):
    t = world.own
    body = await report(client, t, "supervisor", kind, **params)
    response = await client.get(
        f"{BASE}/{kind}", params={**WEEK, **params, "format": "csv"}, headers=t.auth("supervisor")
    )
    rows = parse_csv(response, filename)
    assert rows and rows == as_text(body[part])


async def test_csv_of_hotspots_and_expiring_stock(world, client, shelves, expiring_stock):
    t = world.own
    await set_inspection_rules(t.org_id, InspectionRules(hotspot_min_stores=2))
    try:
        body = await report(client, t, "admin", "out-of-stock")
        response = await client.get(
            f"{BASE}/out-of-stock", params={**WEEK, "format": "csv", "part": "hotspots"}, headers=t.auth("admin")
        )
    finally:
        await set_inspection_rules(t.org_id, InspectionRules())
    hotspots = parse_csv(response, "inspections-out-of-stock-hotspots-2025-06-02-2025-06-08.csv")
    assert len(hotspots) == 2 and hotspots == as_text(body["hotspots"])
    period = {"date_from": expiring_stock["from"], "date_to": expiring_stock["to"], "within_days": 30}
    body = await report(client, t, "admin", "expiring", **period)
    response = await client.get(f"{BASE}/expiring", params={**period, "format": "csv"}, headers=t.auth("admin"))
    rows = parse_csv(response, f"inspections-expiring-{period['date_from']}-{period['date_to']}.csv")
    assert len(rows) == 3 and rows == as_text(body["rows"])


async def test_an_empty_csv_still_has_its_header(world, client, shelves):
    quiet = {"date_from": "2024-01-01", "date_to": "2024-01-07", "format": "csv"}
    response = await client.get(f"{BASE}/prices", params=quiet, headers=world.own.auth("admin"))
    assert response.status_code == 200 and len(response.text.splitlines()) == 1
    assert response.text.splitlines()[0].startswith("key,label,code,priced_audits,")


# --- scope ----------------------------------------------------------------------------------------------------


async def test_a_rep_sees_only_their_own_inspections(world, client, shelves):
    body = await report(client, world.own, "rep", "out-of-stock")
    assert figures(body["rows"], "label", "audits", "out_of_stock") == [
        ("Oolong tea 330ml", 1, 1),
        ("Green tea 500ml", 1, 0),
        ("Jasmine tea 500ml", 1, 0),
    ]
    compliance = await report(client, world.own, "rep", "compliance", by="rep")
    assert figures(compliance["rows"], "label", "inspections") == [("Rep", 1)]


async def test_a_supervisor_sees_their_team_and_their_territory(world, client, shelves):
    t = world.own
    # I1 and I2 by the team, I4 by rep3 at a store of Jing'an; not I3 (rep3 at store3).
    body = await report(client, t, "supervisor", "out-of-stock")
    assert figures(body["rows"], *STOCK) == [
        ("Jasmine tea 500ml", 3, 2, 0.6667, 2, 2),
        ("Oolong tea 330ml", 3, 2, 0.6667, 2, 2),
        ("Green tea 500ml", 2, 0, 0.0, 2, 0),
    ]
    by_rep = await report(client, t, "supervisor", "compliance", by="rep")
    assert figures(by_rep["rows"], "label", "inspections") == [("Rep", 1), ("Rep2", 1), ("Rep3", 1)]
    # supervisor2 sees their team (rep3) only: I3 and I4, none of supervisor's team.
    theirs = await report(client, t, "supervisor2", "out-of-stock", by="store")
    assert figures(theirs["rows"], "label", "audits", "out_of_stock") == [
        ("Acme Foods store", 2, 1),
        ("Acme Foods store3", 2, 1),
    ]
    assert figures((await report(client, t, "supervisor2", "compliance", by="rep"))["rows"], "label") == [("Rep3",)]


async def test_the_other_organisation_never_appears(world, client, shelves):
    t, o = world.own, world.other
    mine = await report(client, t, "admin", "out-of-stock", by="store")
    assert {r["key"] for r in mine["rows"]} == {str(t.ids[k]) for k in ("store", "store2", "store3")}
    theirs = await report(client, o, "admin", "out-of-stock", by="store")
    assert figures(theirs["rows"], "label", "audits", "out_of_stock") == [
        ("Globex Drinks store", 1, 1),
        ("Globex Drinks store2", 1, 1),
        ("Globex Drinks store3", 1, 1),
    ]
    assert [r["label"] for r in (await report(client, o, "admin", "compliance", by="territory"))["rows"]] == ["Jing'an"]


async def test_filters_narrow_the_scope(world, client, shelves):
    t = world.own
    by_rep3 = await report(client, t, "admin", "out-of-stock", rep_id=str(t.users["rep3"]))
    assert figures(by_rep3["rows"], "label", "audits", "out_of_stock") == [
        ("Jasmine tea 500ml", 2, 2),
        ("Oolong tea 330ml", 2, 0),
    ]
    # rep3 is not supervisor's, but their audit at a Jing'an store is in supervisor's scope: that one only.
    seen = await report(client, t, "supervisor", "out-of-stock", rep_id=str(t.users["rep3"]))
    assert figures(seen["rows"], "label", "audits", "out_of_stock") == [
        ("Jasmine tea 500ml", 1, 1),
        ("Oolong tea 330ml", 1, 0),
    ]
    lawson = await report(client, t, "admin", "compliance", chain="Lawson")
    assert figures(lawson["rows"], "label", "inspections") == [("Acme Foods store3", 1)]
    store2 = await report(client, t, "supervisor", "prices", store_id=str(t.ids["store2"]))
    assert figures(store2["rows"], "label", "priced_audits") == [("Green tea 500ml", 1)]
    jingan = await report(client, t, "supervisor", "compliance", territory_id=str(t.ids["territory"]))
    assert figures(jingan["rows"], "label", "inspections") == [("Acme Foods store", 2), ("Acme Foods store2", 1)]
    # A rep's own audits at a store of Jing'an make the territory one they may filter by.
    mine = await report(client, t, "rep", "compliance", territory_id=str(t.ids["territory"]))
    assert figures(mine["rows"], "label", "inspections") == [("Acme Foods store", 1)]
    empty = await report(client, t, "supervisor2", "compliance", territory_id=str(t.ids["xuhui"]))
    assert empty["rows"] == []


@pytest.mark.parametrize(
    ("who", "filter_", "target", "code"),
    [
        ("supervisor2", "rep_id", ("own", "users", "rep"), "report.no_such_rep"),
        ("rep", "rep_id", ("own", "users", "rep2"), "report.no_such_rep"),
        ("admin", "rep_id", ("other", "users", "rep"), "report.no_such_rep"),
        ("supervisor", "store_id", ("own", "ids", "store3"), "report.no_such_store"),
        ("rep", "store_id", ("own", "ids", "store2"), "report.no_such_store"),
        ("admin", "store_id", ("other", "ids", "store"), "report.no_such_store"),
        ("supervisor", "territory_id", ("own", "ids", "xuhui"), "report.no_such_territory"),
        ("rep", "territory_id", ("own", "ids", "xuhui"), "report.no_such_territory"),
        ("admin", "territory_id", ("other", "ids", "territory"), "report.no_such_territory"),
    ],
)
@pytest.mark.parametrize("kind", ["out-of-stock", "compliance", "prices", "expiring"])
async def test_a_filter_outside_the_scope_is_not_found(world, client, shelves, who, filter_, target, code, kind):
    tenant, table, key = target
    named = getattr(getattr(world, tenant), table)[key]
    response = await client.get(f"{BASE}/{kind}", params={**WEEK, filter_: str(named)}, headers=world.own.auth(who))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == code


async def test_every_role_may_call_them_and_nobody_anonymous(world, client, shelves):
    for kind in ("out-of-stock", "compliance", "prices", "expiring"):
        for who in ("rep", "supervisor", "admin"):
            await report(client, world.own, who, kind)
        assert (await client.get(f"{BASE}/{kind}", params=WEEK)).status_code == 401


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("out-of-stock", {"date_from": "2025-06-08", "date_to": "2025-06-02"}, "date_to"),
        ("compliance", {"date_from": "2025-01-01", "date_to": "2026-01-02"}, "date_to"),
        ("prices", {"date_from": "2025-02-30", "date_to": "2025-03-02"}, "date_from"),
        ("prices", {"date_from": "0001-01-01", "date_to": "0001-01-02"}, "date_from"),
        ("out-of-stock", {"date_from": "9999-12-30", "date_to": "9999-12-31"}, "date_from"),
        ("out-of-stock", {**WEEK, "by": "rep"}, "by"),
        ("compliance", {**WEEK, "by": "product"}, "by"),
        ("prices", {**WEEK, "by": "nothing"}, "by"),
        ("expiring", {**WEEK, "within_days": "366"}, "within_days"),
        ("expiring", {**WEEK, "within_days": "-1"}, "within_days"),
        ("expiring", {**WEEK, "within_days": "soon"}, "within_days"),
        ("out-of-stock", {**WEEK, "format": "xlsx"}, "format"),
        ("out-of-stock", {**WEEK, "format": "csv", "part": "everything"}, "part"),
        ("out-of-stock", {**WEEK, "must_stock_only": "maybe"}, "must_stock_only"),
        ("compliance", {**WEEK, "rep_id": "not-a-uuid"}, "rep_id"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(world, client, shelves, kind, params, field):
    response = await client.get(f"{BASE}/{kind}", params=params, headers=world.own.auth("admin"))
    assert response.status_code == 400, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.text


async def test_a_missing_date_is_a_400_naming_it(world, client, shelves):
    response = await client.get(f"{BASE}/expiring", params={"date_to": "2025-06-02"}, headers=world.own.auth("rep"))
    assert response.status_code == 400 and "'date_from'" in response.json()["detail"]


async def test_a_range_of_366_days_is_accepted(world, client, shelves):
    body = await report(client, world.own, "admin", "out-of-stock", date_from="2025-01-01", date_to="2026-01-01")
    assert body["period"] == "week" and sum(p["audits"] for p in body["trend"]) == 12
