"""The demo catalogue: Demo Foods' own lines beside the competitors a rep meets on the shelf, and the must-stock rules.

Products come from `products.json`; barcodes are made up but valid EAN-13s with a China GS1 prefix (690-699),
one company prefix per brand, unique across the catalogue.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from functools import cache
from importlib import resources

import msgspec

from backend.catalog.barcodes import barcode_problem, with_check_digit
from backend.catalog.schemas import AssortmentCreate, ProductCreate
from backend.demo.stores import DemoStore
from backend.tables_base import new_id


class CatalogueFile(msgspec.Struct, frozen=True):
    own_brands: list[str]
    columns: list[str]
    # [brand, category, name, pack_size, rrp_minor]
    products: list[tuple[str, str, str, str, int]]


class DemoProduct(msgspec.Struct, frozen=True):
    id: uuid.UUID
    data: ProductCreate


class MustStock(msgspec.Struct, frozen=True):
    """One assortment rule: exactly one of store_id, chain or channel is set."""

    id: uuid.UUID
    product_id: uuid.UUID
    min_facings: int
    price_tolerance_pct: float
    store_id: uuid.UUID | None = None
    chain: str | None = None
    channel: str | None = None


# How many own-brand SKUs each chain must carry; small formats get the single-serve lines only.
CHAIN_LISTS: dict[str, int] = {
    "FamilyMart": 12,
    "Lawson": 10,
    "7-Eleven": 10,
    "Alldays": 8,
    "Kedi": 8,
    "Quik": 6,
    "Lianhua": 18,
    "Hema Fresh": 16,
    "CR Vanguard": 18,
    "City'super": 10,
    "Ole'": 10,
    "Carrefour": 25,
    "RT-Mart": 25,
    "Walmart": 22,
    "Metro": 20,
    "LBX Pharmacy": 4,
}
CHANNEL_LISTS: dict[str, int] = {"traditional": 8, "horeca": 5}
SMALL_FORMATS = {"convenience", "pharmacy", "traditional", "horeca"}
KEY_STORE_EXTRAS = 3
KEY_STORES = 12


@cache
def _catalogue_file() -> CatalogueFile:
    return msgspec.json.decode(
        resources.files("backend.demo").joinpath("products.json").read_bytes(), type=CatalogueFile
    )


def _barcodes(rng: random.Random, brands: Iterable[str]) -> dict[str, list[str]]:
    """A queue of unique EAN-13 codes for each brand: 69x + a 4-digit company number + a 5-digit item number."""
    companies: set[str] = set()
    queues: dict[str, list[str]] = {}
    for brand in brands:
        company = f"69{rng.randint(0, 9)}{rng.randint(0, 9999):04d}"
        while company in companies:
            company = f"69{rng.randint(0, 9)}{rng.randint(0, 9999):04d}"
        companies.add(company)
        first = rng.randint(100, 90_000)
        queues[brand] = [with_check_digit(f"{company}{item:05d}") for item in range(first, first + 100)]
    return queues


def plan_products(rng: random.Random) -> list[DemoProduct]:
    """The 150 demo products (codes DF-0001...), validated as the API would validate them."""
    catalogue = _catalogue_file()
    brands = sorted({row[0] for row in catalogue.products})
    barcodes = _barcodes(rng, brands)
    products = []
    for number, (brand, category, name, pack_size, rrp_minor) in enumerate(catalogue.products, start=1):
        barcode = barcodes[brand].pop(0)
        problem = barcode_problem(barcode)
        if problem:
            raise ValueError(f"demo barcode {barcode} {problem}")
        data = msgspec.convert(
            {
                "code": f"DF-{number:04d}",
                "name": f"{name} {pack_size}",
                "brand": brand,
                "category": category,
                "pack_size": pack_size,
                "barcode": barcode,
                "rrp_minor": rrp_minor,
                "own_brand": brand in catalogue.own_brands,
            },
            ProductCreate,
        )
        products.append(DemoProduct(id=new_id(), data=data))
    return products


def _is_single_serve(product: DemoProduct) -> bool:
    # Multipacks and family sizes belong in big formats; a convenience shelf carries what one person buys.
    return "\N{MULTIPLICATION SIGN}" not in product.data.pack_size and (product.data.rrp_minor or 0) <= 1000


def _rule(
    rng: random.Random,
    product: DemoProduct,
    small: bool,
    *,
    store_id: uuid.UUID | None = None,
    chain: str | None = None,
    channel: str | None = None,
) -> MustStock:
    return MustStock(
        id=new_id(),
        product_id=product.id,
        min_facings=rng.randint(1, 2) if small else rng.randint(2, 4),
        # Independents price freely; modern trade follows the price list closely.
        price_tolerance_pct=10.0 if small else 5.0,
        store_id=store_id,
        chain=chain,
        channel=channel,
    )


def plan_assortments(rng: random.Random, products: list[DemoProduct], stores: list[DemoStore]) -> list[MustStock]:
    """Must-stock rules: by chain, by channel for the independents, and a few extra SKUs in key stores."""
    own = [p for p in products if p.data.own_brand]
    single_serve = [p for p in own if _is_single_serve(p)]
    chain_channel = {s.data.chain: s.data.channel for s in stores if s.data.chain}
    rules: list[MustStock] = []
    for chain, count in CHAIN_LISTS.items():
        small = chain_channel.get(chain) in SMALL_FORMATS
        for product in rng.sample(single_serve if small else own, count):
            rules.append(_rule(rng, product, small, chain=chain))
    for channel, count in CHANNEL_LISTS.items():
        for product in rng.sample(single_serve, count):
            rules.append(_rule(rng, product, True, channel=channel))
    chain_products: dict[str, set[uuid.UUID]] = {}
    for rule in rules:
        if rule.chain:
            chain_products.setdefault(rule.chain, set()).add(rule.product_id)
    key_stores = sorted((s for s in stores if s.data.priority == 5), key=lambda s: s.data.code)[:KEY_STORES]
    for store in key_stores:
        listed = chain_products.get(store.data.chain or "", set())
        for product in rng.sample([p for p in own if p.id not in listed], KEY_STORE_EXTRAS):
            rules.append(_rule(rng, product, False, store_id=store.id))
    for rule in rules:
        # The field checks the API makes on a new rule.
        msgspec.convert(
            {k: v for k, v in msgspec.structs.asdict(rule).items() if k != "id" and v is not None}, AssortmentCreate
        )
    return rules


def must_stock_of(store: DemoStore, rules: list[MustStock]) -> dict[uuid.UUID, MustStock]:
    """The rules that apply to one store, one per product (a store-specific rule wins over chain and channel)."""
    applicable: dict[uuid.UUID, MustStock] = {}
    for rule in rules:
        if rule.channel == store.data.channel or (rule.chain is not None and rule.chain == store.data.chain):
            applicable.setdefault(rule.product_id, rule)
    for rule in rules:
        if rule.store_id == store.id:
            applicable[rule.product_id] = rule
    return applicable
