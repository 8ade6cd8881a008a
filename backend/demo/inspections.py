"""Shelf inspections for about half of the past visits: the store's must-stock list plus a few competitors."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from backend.demo.catalogue import DemoProduct, MustStock, must_stock_of
from backend.demo.stores import DemoStore
from backend.inspections.tables import Inspection, InspectionItem
from backend.tables_base import new_id
from backend.visits.tables import Visit

INSPECTED_SHARE = 0.5
OUT_OF_STOCK_SHARE = 0.08
PROMOTION_SHARE = 0.10
OFF_PRICE_SHARE = 0.12


class ItemFacts(msgspec.Struct, frozen=True):
    """What the scores need to know about one inspected product."""

    present: bool
    facings: int
    shelf_price_minor: int | None
    rrp_minor: int | None
    own_brand: bool
    # The store's must-stock rule for the product; None for products it need not carry (competitors).
    rule: MustStock | None


class Scores(msgspec.Struct, frozen=True):
    oos_rate: float | None
    assortment_compliance: float | None
    facings_compliance: float | None
    price_compliance: float | None
    share_of_shelf: float | None
    score: float | None


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _enough_facings(item: ItemFacts) -> bool:
    return item.rule is not None and item.facings >= item.rule.min_facings


def _price_within_tolerance(item: ItemFacts) -> bool:
    if item.rule is None or item.shelf_price_minor is None or not item.rrp_minor:
        return False
    return abs(item.shelf_price_minor - item.rrp_minor) <= item.rrp_minor * item.rule.price_tolerance_pct / 100


def compliance_scores(items: Sequence[ItemFacts]) -> Scores:
    """Provisional shelf scores, each 0..1, or None when there is nothing to measure.

    - oos_rate: share of the inspected items not present.
    - assortment_compliance: share of the must-stock items present.
    - facings_compliance: share of the must-stock items with at least their minimum facings.
    - price_compliance: share of the priced must-stock items whose shelf price is within the rule's tolerance of
      the recommended retail price (promotional prices count like any other).
    - share_of_shelf: own-brand facings over all facings counted.
    - score: the mean of the three compliance figures that could be measured.

    These are simple, honest stand-ins for the demo; the official formulas will replace them.
    """
    must = [i for i in items if i.rule is not None]
    priced = [i for i in must if i.present and i.shelf_price_minor is not None and i.rrp_minor]
    compliance = [
        _share(sum(1 for i in must if i.present), len(must)),
        _share(sum(1 for i in must if _enough_facings(i)), len(must)),
        _share(sum(1 for i in priced if _price_within_tolerance(i)), len(priced)),
    ]
    measured = [c for c in compliance if c is not None]
    return Scores(
        oos_rate=_share(sum(1 for i in items if not i.present), len(items)),
        assortment_compliance=compliance[0],
        facings_compliance=compliance[1],
        price_compliance=compliance[2],
        share_of_shelf=_share(sum(i.facings for i in items if i.own_brand), sum(i.facings for i in items)),
        score=round(sum(measured) / len(measured), 4) if measured else None,
    )


def _shelf_price(rng: random.Random, rrp: int, tolerance_pct: float, promotion: bool) -> int:
    if promotion:
        factor = rng.uniform(0.8, 0.9)
    elif rng.random() < OFF_PRICE_SHARE:
        factor = 1 + rng.choice((-1, 1)) * (tolerance_pct / 100 + rng.uniform(0.03, 0.15))
    else:
        factor = 1 + rng.uniform(-0.8, 0.8) * tolerance_pct / 100
    # Shelf prices in China end in whole jiao (¥3.50, not ¥3.47).
    return max(10, round(rrp * factor / 10) * 10)


def _item(
    rng: random.Random, product: DemoProduct, rule: MustStock | None, local_day: dt.date
) -> tuple[ItemFacts, dict[str, Any]]:
    data = product.data
    if rng.random() < OUT_OF_STOCK_SHARE:
        facts = ItemFacts(False, 0, None, data.rrp_minor, data.own_brand, rule)
        return facts, {"present": False, "quantity": 0, "facings": 0, "note": rng.choice(("Out of stock", ""))}
    facings = max(1, rule.min_facings + rng.choice((-1, 0, 0, 0, 1, 1, 2))) if rule else rng.randint(1, 6)
    promotion = rng.random() < PROMOTION_SHARE
    price = (
        _shelf_price(rng, data.rrp_minor, rule.price_tolerance_pct if rule else 5.0, promotion)
        if data.rrp_minor
        else None
    )
    expiry = local_day + dt.timedelta(days=rng.randint(2, 21)) if data.category == "Dairy" else None
    facts = ItemFacts(True, facings, price, data.rrp_minor, data.own_brand, rule)
    return facts, {
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
    """Inspections with their items and scores, for about half of the checked-out visits to open stores."""
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
        facts = []
        local_day = started.astimezone(zone).date()
        for product in inspected:
            fact, values = _item(rng, product, must.get(product.id), local_day)
            facts.append(fact)
            items.append(
                InspectionItem(
                    id=new_id(),
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
                **msgspec.structs.asdict(compliance_scores(facts)),
            )
        )
    return inspections, items
