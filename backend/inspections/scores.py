"""The shelf scores of an inspection: pure functions, the same on the server and on the phone.

The phone runs a port of this module as the rep types, so the vectors in `vectors/scores.json` pin every
formula; both test suites pass them. docs/inspections.md states the formulas in words.

Values are not rounded here: what is stored and synced is the exact quotient (IEEE double), which both languages
compute identically when the operations are done in the same order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec

from backend.inspections.rules import ScoreWeights

PARTS = ("assortment", "availability", "facings", "price", "share_of_shelf")


class StoreFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    chain: str | None = None
    channel: str


class ProductFacts(msgspec.Struct, frozen=True, kw_only=True):
    own_brand: bool
    rrp_minor: int | None = None
    active: bool = True


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A must-stock rule as synced: for one store, every store of a chain, or every store of a channel."""

    product_id: str
    store_id: str | None = None
    chain: str | None = None
    channel: str | None = None
    min_facings: int = 1
    rrp_minor: int | None = None
    price_tolerance_pct: float = 5.0


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """What the shelf should show for one must-stock product in one store."""

    min_facings: int
    rrp_minor: int | None
    price_tolerance_pct: float


class Item(msgspec.Struct, frozen=True, kw_only=True):
    product_id: str
    present: bool = True
    facings: int | None = None
    shelf_price_minor: int | None = None
    promotion: bool = False
    expiry_date: dt.date | None = None


class ItemResult(msgspec.Struct, frozen=True, kw_only=True):
    """The server-owned fields of an item."""

    must_stock: bool
    min_facings: int | None
    reference_price_minor: int | None
    price_tolerance_pct: float | None
    price_deviation_pct: float | None
    price_ok: bool | None


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    oos_rate: float | None
    assortment_compliance: float | None
    facings_compliance: float | None
    price_compliance: float | None
    share_of_shelf: float | None
    score: float | None


class Result(msgspec.Struct, frozen=True, kw_only=True):
    scores: Scores
    items: dict[str, ItemResult]


def targets_for(store: StoreFacts, rules: Iterable[Rule], products: dict[str, ProductFacts]) -> dict[str, Target]:
    """The store's must-stock products and their targets. A rule for the store itself beats one for its chain,
    which beats one for its channel; retired products (and products unknown here) are never must-stock."""
    ranked: dict[str, tuple[int, Rule]] = {}
    for rule in rules:
        if rule.store_id is not None:
            rank = 0 if rule.store_id == store.id else -1
        elif rule.chain is not None:
            rank = 1 if store.chain is not None and rule.chain == store.chain else -1
        else:
            rank = 2 if rule.channel == store.channel else -1
        product = products.get(rule.product_id)
        if rank < 0 or product is None or not product.active:
            continue
        known = ranked.get(rule.product_id)
        if known is None or rank < known[0]:
            ranked[rule.product_id] = (rank, rule)
    return {
        product_id: Target(
            min_facings=rule.min_facings, rrp_minor=rule.rrp_minor, price_tolerance_pct=rule.price_tolerance_pct
        )
        for product_id, (_, rule) in ranked.items()
    }


def latest_per_product(items: Sequence[Item]) -> dict[str, Item]:
    """One item per product: a product scanned twice counts once, with its last entry."""
    found: dict[str, Item] = {}
    for item in items:
        found[item.product_id] = item
    return found


def item_result(
    item: Item, product: ProductFacts | None, target: Target | None, default_tolerance_pct: float
) -> ItemResult:
    """The item's targets and how its shelf price compares with the reference price."""
    own_rrp = product.rrp_minor if product is not None else None
    reference = (target.rrp_minor if target.rrp_minor is not None else own_rrp) if target else own_rrp
    if reference is not None and reference <= 0:
        reference = None
    tolerance = target.price_tolerance_pct if target else (default_tolerance_pct if reference is not None else None)
    deviation: float | None = None
    price_ok: bool | None = None
    if item.present and item.shelf_price_minor is not None and reference is not None:
        deviation = (item.shelf_price_minor - reference) / reference * 100
        if not item.promotion and tolerance is not None:
            # In integers, so a price exactly at the tolerance is within it in every language.
            price_ok = abs(item.shelf_price_minor - reference) * 100 <= tolerance * reference
    return ItemResult(
        must_stock=target is not None,
        min_facings=target.min_facings if target else None,
        reference_price_minor=reference,
        price_tolerance_pct=tolerance,
        price_deviation_pct=deviation,
        price_ok=price_ok,
    )


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def score(
    *,
    store: StoreFacts,
    products: dict[str, ProductFacts],
    rules: Iterable[Rule],
    items: Sequence[Item],
    weights: ScoreWeights,
    default_tolerance_pct: float = 5.0,
) -> Result:
    """Every score of one inspection and the server-owned fields of each of its items."""
    targets = targets_for(store, rules, products)
    audited = latest_per_product(items)
    results = {
        product_id: item_result(item, products.get(product_id), targets.get(product_id), default_tolerance_pct)
        for product_id, item in audited.items()
    }
    must_audited = [audited[p] for p in targets if p in audited]
    found = [i for i in must_audited if i.present]
    counted = [i for i in found if i.facings is not None]
    priced = [r.price_ok for r in results.values() if r.price_ok is not None]
    shelf = [i for i in audited.values() if i.present and i.facings is not None]
    own = sum(i.facings or 0 for i in shelf if (p := products.get(i.product_id)) is not None and p.own_brand)
    oos_rate = _share(len(must_audited) - len(found), len(must_audited))
    parts = {
        "assortment": _share(len(found), len(targets)),
        "availability": None if oos_rate is None else 1 - oos_rate,
        "facings": _share(
            sum(1 for i in counted if (i.facings or 0) >= targets[i.product_id].min_facings), len(counted)
        ),
        "price": _share(sum(1 for ok in priced if ok), len(priced)),
        "share_of_shelf": _share(own, sum(i.facings or 0 for i in shelf)),
    }
    total = weighted = 0.0
    for name in PARTS:
        weight, value = getattr(weights, name), parts[name]
        if value is not None and weight > 0:
            total += weight
            weighted += weight * value
    return Result(
        scores=Scores(
            oos_rate=oos_rate,
            assortment_compliance=parts["assortment"],
            facings_compliance=parts["facings"],
            price_compliance=parts["price"],
            share_of_shelf=parts["share_of_shelf"],
            score=weighted / total if total else None,
        ),
        items=results,
    )
