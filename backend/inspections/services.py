"""Reading inspections: a rep their own, a supervisor their team's and their territories', an admin all.

Inspections are written over sync only (docs/sync-protocol.md 8); the server scores them (scoring.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.db import json_value
from backend.errors import NotFound
from backend.inspections import schemas, scores
from backend.inspections.scoring import product_facts, rules_for_stores
from backend.inspections.tables import Inspection, InspectionItem
from backend.orgs.tables import Organization
from backend.orgs.teams import team_rep_ids
from backend.paging import Page
from backend.stores.tables import Store
from backend.sync_api.scope import supervised_territories

SCORES = ("oos_rate", "assortment_compliance", "facings_compliance", "price_compliance", "share_of_shelf", "score")


async def visible_inspections(principal: Principal) -> Combinable:
    """The inspections the caller may read, as a condition on Inspection."""
    condition: Combinable = Inspection.org_id == principal.org_id
    if principal.is_admin:
        return condition
    if principal.is_rep:
        return condition & (Inspection.rep_id == principal.user_id)
    mine: Combinable = Inspection.rep_id.is_in([principal.user_id, *await team_rep_ids(principal)])
    territories = await supervised_territories(principal)
    if territories:
        mine |= Inspection.store_id._.territory_id.is_in(territories)
    return condition & mine


async def _bounds(org_id: uuid.UUID, first: dt.date | None, last: dt.date | None) -> Combinable | None:
    if first is None and last is None:
        return None
    org = await Organization.select(Organization.time_zone).where(Organization.id == org_id).first().run()
    zone = ZoneInfo(org["time_zone"] if org else "UTC")
    condition: Combinable | None = None
    if first is not None:
        condition = Inspection.started_at >= dt.datetime.combine(first, dt.time(), tzinfo=zone)
    if last is not None:
        before = Inspection.started_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        condition = before if condition is None else condition & before
    return condition


async def list_inspections(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    store_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
    rep_id: uuid.UUID | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Page[schemas.InspectionSummary]:
    """Newest first."""
    condition = await visible_inspections(principal)
    for column, value in (
        (Inspection.store_id, store_id),
        (Inspection.visit_id, visit_id),
        (Inspection.rep_id, rep_id),
    ):
        if value is not None:
            condition &= column == value
    dates = await _bounds(principal.org_id, date_from, date_to)
    if dates is not None:
        condition &= dates
    rows = (
        await Inspection.select(
            *Inspection.all_columns(exclude=[Inspection.org_id, Inspection.created_at, Inspection.updated_at]),
            Inspection.store_id.name.as_alias("store_name"),
            Inspection.rep_id.name.as_alias("rep_name"),
        )
        .where(condition)
        .order_by(Inspection.started_at, ascending=False)
        .order_by(Inspection.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .run()
    )
    total = await Inspection.count().where(condition).run()
    counts = await _counts([r["id"] for r in rows])
    return Page(items=[_summary(r, counts) for r in rows], total=total, limit=limit, offset=offset)


async def get_inspection(principal: Principal, inspection_id: uuid.UUID) -> schemas.InspectionDetail:
    condition = await visible_inspections(principal)
    row = (
        await Inspection.select(
            *Inspection.all_columns(exclude=[Inspection.org_id, Inspection.created_at, Inspection.updated_at]),
            Inspection.store_id.name.as_alias("store_name"),
            Inspection.rep_id.name.as_alias("rep_name"),
        )
        .where(condition & (Inspection.id == inspection_id))
        .first()
        .run()
    )
    if row is None:
        raise NotFound("Inspection not found", code="inspection.not_found")
    items = (
        await InspectionItem.select(
            *InspectionItem.all_columns(exclude=[InspectionItem.org_id, InspectionItem.inspection_id]),
            InspectionItem.product_id.code.as_alias("product_code"),
            InspectionItem.product_id.name.as_alias("product_name"),
            InspectionItem.product_id.brand.as_alias("brand"),
            InspectionItem.product_id.barcode.as_alias("barcode"),
            InspectionItem.product_id.own_brand.as_alias("own_brand"),
        )
        .where(InspectionItem.inspection_id == inspection_id)
        .run()
    )
    items.sort(key=lambda i: (not i["must_stock"], i["product_code"]))
    for item in items:
        item["photos"] = json_value(item["photos"]) or []
    counts = await _counts([inspection_id])
    return schemas.InspectionDetail(
        inspection=_summary(row, counts),
        items=[msgspec.convert(i, schemas.InspectionItem, strict=False) for i in items],
        not_audited=await _not_audited(principal.org_id, row["store_id"], {i["product_id"] for i in items}),
    )


async def _not_audited(org_id: uuid.UUID, store_id: uuid.UUID, audited: set[uuid.UUID]) -> list[uuid.UUID]:
    store = await Store.select(Store.id, Store.chain, Store.channel).where(Store.id == store_id).first().run()
    if store is None:
        return []
    rules = await rules_for_stores(org_id, [store])
    if not rules:
        return []
    products = await product_facts(org_id, {uuid.UUID(r.product_id) for r in rules})
    facts = scores.StoreFacts(id=str(store_id), chain=store["chain"], channel=store["channel"])
    targets = scores.targets_for(facts, rules, products)
    return sorted(uuid.UUID(p) for p in targets if uuid.UUID(p) not in audited)


async def _counts(ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int, int]]:
    """inspection -> (items, out of stock, must-stock out of stock), counted by the database."""
    if not ids:
        return {}
    marks = ", ".join(["{}"] * len(ids))
    rows = await InspectionItem.raw(
        "SELECT inspection_id, COUNT(*) AS items, SUM(CASE WHEN present THEN 0 ELSE 1 END) AS out, "
        "SUM(CASE WHEN must_stock AND NOT present THEN 1 ELSE 0 END) AS must_out "
        f"FROM inspection_item WHERE inspection_id IN ({marks}) GROUP BY inspection_id",
        *ids,
    ).run()
    return {uuid.UUID(str(r["inspection_id"])): (int(r["items"]), int(r["out"]), int(r["must_out"])) for r in rows}


def _summary(row: dict[str, Any], counts: dict[uuid.UUID, tuple[int, int, int]]) -> schemas.InspectionSummary:
    items, out, must_out = counts.get(row["id"], (0, 0, 0))
    return schemas.InspectionSummary(
        id=row["id"],
        visit_id=row["visit_id"],
        store_id=row["store_id"],
        store_name=row["store_name"],
        rep_id=row["rep_id"],
        rep_name=row["rep_name"],
        started_at=row["started_at"],
        items=items,
        out_of_stock=out,
        must_stock_out_of_stock=must_out,
        **{k: row[k] for k in SCORES},
    )
