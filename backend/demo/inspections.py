"""Shelf inspections for about half of the past visits: the store's must-stock list plus a few competitors."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from backend.demo.catalogue import DemoProduct, MustStock, must_stock_of
from backend.demo.stores import DemoStore
from backend.inspections.ids import item_id
from backend.inspections.tables import Inspection, InspectionItem
from backend.tables_base import new_id
from backend.visits.tables import Visit

INSPECTED_SHARE = 0.5
OUT_OF_STOCK_SHARE = 0.08
PROMOTION_SHARE = 0.10
OFF_PRICE_SHARE = 0.12


def _shelf_price(rng: random.Random, rrp: int, tolerance_pct: float, promotion: bool) -> int:
    if promotion:
        factor = rng.uniform(0.8, 0.9)
    elif rng.random() < OFF_PRICE_SHARE:
        factor = 1 + rng.choice((-1, 1)) * (tolerance_pct / 100 + rng.uniform(0.03, 0.15))
    else:
        factor = 1 + rng.uniform(-0.8, 0.8) * tolerance_pct / 100
    # Shelf prices in China end in whole jiao (¥3.50, not ¥3.47).
    return max(10, round(rrp * factor / 10) * 10)


def _item(rng: random.Random, product: DemoProduct, rule: MustStock | None, local_day: dt.date) -> dict[str, Any]:
    data = product.data
    if rng.random() < OUT_OF_STOCK_SHARE:
        return {"present": False, "quantity": 0, "facings": 0, "note": rng.choice(("Out of stock", ""))}
    facings = max(1, rule.min_facings + rng.choice((-1, 0, 0, 0, 1, 1, 2))) if rule else rng.randint(1, 6)
    promotion = rng.random() < PROMOTION_SHARE
    price = (
        _shelf_price(rng, data.rrp_minor, rule.price_tolerance_pct if rule else 5.0, promotion)
        if data.rrp_minor
        else None
    )
    expiry = local_day + dt.timedelta(days=rng.randint(2, 21)) if data.category == "Dairy" else None
    return {
        "present": True,
        "quantity": facings * rng.randint(2, 8),
        "facings": facings,
        "shelf_price_minor": price,
        "promotion": promotion,
        "expiry_date": expiry,
    }


def plan_inspections(
    rng: random.Random,
    *,
    visits: Sequence[Visit],
    stores: Sequence[DemoStore],
    products: Sequence[DemoProduct],
    rules: list[MustStock],
    zone: ZoneInfo,
) -> tuple[list[Inspection], list[InspectionItem]]:
    """Inspections with their items, for about half of the checked-out visits to open stores. The server scores
    them afterwards (backend/inspections/scoring.py), as it scores any inspection that arrives."""
    store_by_id = {s.id: s for s in stores}
    product_by_id = {p.id: p for p in products}
    competitors = [p for p in products if not p.data.own_brand]
    must_by_store = {s.id: must_stock_of(s, rules) for s in stores}
    inspections: list[Inspection] = []
    items: list[InspectionItem] = []
    for visit in visits:
        if visit.state != "checked_out" or visit.outcome == "store_closed" or rng.random() >= INSPECTED_SHARE:
            continue
        store = store_by_id[visit.store_id]
        must = must_by_store[store.id]
        listed = sorted((product_by_id[p] for p in must), key=lambda p: p.data.code)
        categories = {p.data.category for p in listed}
        rivals = [p for p in competitors if p.data.category in categories]
        inspected = listed + rng.sample(rivals, min(len(rivals), rng.randint(2, 4)))
        started = visit.check_in_at + dt.timedelta(minutes=rng.randint(2, 6))
        inspection_id = new_id()
        local_day = started.astimezone(zone).date()
        for product in inspected:
            values = _item(rng, product, must.get(product.id), local_day)
            items.append(
                InspectionItem(
                    id=item_id(inspection_id, product.id),
                    org_id=visit.org_id,
                    inspection_id=inspection_id,
                    product_id=product.id,
                    created_at=started,
                    updated_at=started,
                    **values,
                )
            )
        inspections.append(
            Inspection(
                id=inspection_id,
                org_id=visit.org_id,
                visit_id=visit.id,
                store_id=store.id,
                rep_id=visit.rep_id,
                started_at=started,
                created_at=started,
                updated_at=visit.check_out_at,
            )
        )
    return inspections, items
