"""The server's scores of inspections written over sync, and the alerts they raise.

Runs in the push's transaction after the rows are projected, for every inspection whose own row or any item
changed. The store's must-stock rules and the products are read as they are now: an inspection keeps the scores
it was given until one of its items changes (a later change of the assortment does not rewrite history).
Results are written to the domain rows and recorded as server changes, so the phones pull them; unchanged results
write nothing (docs/inspections.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec
from piccolo.custom_types import Combinable

from backend import db
from backend.catalog.tables import Assortment, Product
from backend.inspections import alerts, scores
from backend.inspections.rules import inspection_rules
from backend.inspections.tables import Inspection, InspectionItem
from backend.stores.tables import Store
from backend.sync_api import versions
from backend.sync_api.record import record_rows
from sync.changes import canonical


async def touched_items(org_id: uuid.UUID, item_rows: Iterable[str]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """inspection -> the products of these item rows, read once from the replicated state (a deleted item is gone
    from the domain table, its versions stay)."""
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for fields in (await versions.read_rows(org_id, "inspection_item", list(set(item_rows)))).values():
        if "inspection_id" in fields and "product_id" in fields:
            inspection = uuid.UUID(str(fields["inspection_id"].change.value))
            found[inspection].add(uuid.UUID(str(fields["product_id"].change.value)))
    return found


async def score_inspections(
    org_id: uuid.UUID, inspection_ids: Iterable[str], touched: dict[uuid.UUID, set[uuid.UUID]] | None = None
) -> None:
    """Score these inspections and their items; then raise or withdraw their out-of-stock reminders and alerts.

    `touched`: the products of the items a push changed, per inspection (`touched_items`): their alerts are
    reconsidered even when the item was deleted."""
    touched = touched or {}
    ids = [uuid.UUID(i) for i in set(inspection_ids)]
    if not ids:
        return
    inspections = {
        r["id"]: r
        for r in await Inspection.select(
            Inspection.id,
            Inspection.store_id,
            Inspection.rep_id,
            Inspection.visit_id,
            Inspection.started_at,
            Inspection.created_at,
        )
        .where((Inspection.org_id == org_id) & Inspection.id.is_in(ids))
        .run()
    }
    gone = [i for i in ids if i not in inspections]
    if gone:  # deleted: their follow-ups go too (unless sent or dismissed)
        await alerts.withdraw(org_id, {i: touched.get(i, set()) for i in gone})
    if not inspections:
        return
    items: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for item in (
        await InspectionItem.select(
            InspectionItem.id,
            InspectionItem.inspection_id,
            InspectionItem.product_id,
            InspectionItem.present,
            InspectionItem.facings,
            InspectionItem.shelf_price_minor,
            InspectionItem.promotion,
        )
        .where(InspectionItem.inspection_id.is_in(list(inspections)))
        .run()
    ):
        items[item["inspection_id"]].append(item)
    stores = await _stores(org_id, {r["store_id"] for r in inspections.values()})
    rules = await rules_for_stores(org_id, stores.values())
    products = await product_facts(
        org_id, {i["product_id"] for rows in items.values() for i in rows} | {uuid.UUID(r.product_id) for r in rules}
    )
    settings = await inspection_rules(org_id)
    results: dict[uuid.UUID, scores.Result] = {}
    for inspection_id, inspection in inspections.items():
        store = stores[inspection["store_id"]]
        results[inspection_id] = scores.score(
            store=scores.StoreFacts(id=str(store["id"]), chain=store["chain"], channel=store["channel"]),
            products=products,
            rules=rules,
            items=[_item(i) for i in items[inspection_id]],
            weights=settings.weights,
            default_tolerance_pct=settings.default_price_tolerance_pct,
        )
    await _write(org_id, inspections, items, results)
    await alerts.reconcile(org_id, settings, inspections, stores, items, results, touched)


def _item(row: dict[str, Any]) -> scores.Item:
    return scores.Item(
        product_id=str(row["product_id"]),
        present=bool(row["present"]),
        facings=row["facings"],
        shelf_price_minor=row["shelf_price_minor"],
        promotion=bool(row["promotion"]),
    )


async def _stores(org_id: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = (
        await Store.select(Store.id, Store.name, Store.chain, Store.channel, Store.territory_id)
        .where((Store.org_id == org_id) & Store.id.is_in(list(ids)))
        .run()
    )
    return {r["id"]: r for r in rows}


async def rules_for_stores(org_id: uuid.UUID, stores: Iterable[dict[str, Any]]) -> list[scores.Rule]:
    """Every must-stock rule that can apply to one of these stores."""
    listed = list(stores)
    condition: Combinable = Assortment.store_id.is_in([s["id"] for s in listed])
    chains = sorted({s["chain"] for s in listed if s["chain"]})
    if chains:
        condition |= Assortment.chain.is_in(chains)
    condition |= Assortment.channel.is_in(sorted({s["channel"] for s in listed}))
    rows = await Assortment.select().where((Assortment.org_id == org_id) & condition).run()
    return [
        scores.Rule(
            product_id=str(r["product_id"]),
            store_id=str(r["store_id"]) if r["store_id"] else None,
            chain=r["chain"],
            channel=r["channel"],
            min_facings=r["min_facings"],
            rrp_minor=r["rrp_minor"],
            price_tolerance_pct=r["price_tolerance_pct"],
        )
        for r in rows
    ]


async def product_facts(org_id: uuid.UUID, ids: set[uuid.UUID]) -> dict[str, scores.ProductFacts]:
    if not ids:
        return {}
    rows = (
        await Product.select(Product.id, Product.own_brand, Product.rrp_minor, Product.active)
        .where((Product.org_id == org_id) & Product.id.is_in(list(ids)))
        .run()
    )
    return {
        str(r["id"]): scores.ProductFacts(own_brand=r["own_brand"], rrp_minor=r["rrp_minor"], active=r["active"])
        for r in rows
    }


async def _write(
    org_id: uuid.UUID,
    inspections: dict[uuid.UUID, dict[str, Any]],
    items: dict[uuid.UUID, list[dict[str, Any]]],
    results: dict[uuid.UUID, scores.Result],
) -> None:
    """Write what changed against the replicated state (so a device learns even a value equal to a default)."""
    inspection_rows = await versions.read_rows(org_id, "inspection", [str(i) for i in inspections])
    item_ids = {
        str(i["id"]): (inspection_id, str(i["product_id"])) for inspection_id, rows in items.items() for i in rows
    }
    item_rows = await versions.read_rows(org_id, "inspection_item", list(item_ids))
    inspection_updates = []
    for inspection_id, result in results.items():
        changed = _changed(msgspec.to_builtins(result.scores), inspection_rows.get(str(inspection_id), {}))
        if changed:
            inspection_updates.append((inspection_id, changed))
    item_updates = []
    for row, (inspection_id, product_id) in item_ids.items():
        values = msgspec.to_builtins(results[inspection_id].items[product_id])
        changed = _changed(values, item_rows.get(row, {}))
        if changed:
            item_updates.append((uuid.UUID(row), changed))
    await db.update_rows("inspection", inspection_updates)
    await db.update_rows("inspection_item", item_updates)
    if inspection_updates:
        await record_rows(org_id, "inspection", inspection_updates, stored=inspection_rows)
    if item_updates:
        await record_rows(org_id, "inspection_item", item_updates, stored=item_rows)


def _changed(values: dict[str, Any], synced: dict[str, versions.Stored]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in synced or canonical(synced[k].change.value) != canonical(v)}
