"""Products and assortments: organisation-wide, readable by every role, written by admins."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.catalog import schemas
from backend.catalog.barcodes import barcode_problem
from backend.catalog.tables import Assortment, Product
from backend.db import contains, write_transaction
from backend.errors import Conflict, Invalid, NotFound
from backend.paging import Page
from backend.stores.tables import Store
from backend.sync_api.record import record_delete, record_domain
from backend.tables_base import new_id, utcnow


def gtin13(barcode: str) -> str:
    """A GTIN as 13 digits (an EAN-13). GS1 compares GTINs right-aligned and zero-padded, so a UPC-A (12 digits)
    is the EAN-13 with a leading 0: both name one product. Anything but a GTIN-8/12/13/14 comes back unchanged."""
    if barcode.isascii() and barcode.isdigit() and len(barcode) in (8, 12, 13, 14):
        padded = barcode.zfill(14)
        if padded[0] == "0":
            return padded[1:]
    return barcode


def barcode_forms(scanned: str) -> list[str]:
    """The ways a product with the scanned GTIN can be stored: as scanned, as EAN-13, and as UPC-A when its
    EAN-13 starts with 0 (a scanner may return either, and some add the GTIN-14 leading zero)."""
    ean = gtin13(scanned)
    forms = {scanned, ean}
    if len(ean) == 13 and ean.isdigit() and ean[0] == "0":
        forms.add(ean[1:])
    return sorted(forms)


def _check_barcode(barcode: str | None) -> None:
    if barcode is not None:
        problem = barcode_problem(barcode)
        if problem:
            raise Invalid.field("barcode", problem, code="product.barcode_invalid")


async def _check_unique(org_id: uuid.UUID, code: str | None, barcode: str | None, except_id: uuid.UUID | None) -> None:
    for column, value, what in ((Product.code, code, "code"), (Product.barcode, barcode, "barcode")):
        if value is None:
            continue
        # A UPC-A and the same GTIN as EAN-13 are one barcode: a scan must find one product.
        same = column.is_in(barcode_forms(value)) if what == "barcode" else column == value
        condition: Combinable = (Product.org_id == org_id) & same
        if except_id is not None:
            condition &= Product.id != except_id
        if await Product.exists().where(condition).run():
            raise Conflict(f"A product with {what} {value!r} exists already", code=f"product.{what}_taken")


async def list_products(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    barcode: str | None = None,
    brand: str | None = None,
    category: str | None = None,
    own_brand: bool | None = None,
    active: bool | None = None,
) -> Page[schemas.Product]:
    condition: Combinable = Product.org_id == principal.org_id
    if q:
        matches = contains(Product.name, q) | contains(Product.code, q) | contains(Product.brand, q)
        if q.isascii() and q.isdigit():
            matches |= contains(Product.barcode, q) | Product.barcode.is_in(barcode_forms(q))
        condition &= matches
    if barcode is not None:
        condition &= Product.barcode.is_in(barcode_forms(barcode))
    for column, value in (
        (Product.brand, brand),
        (Product.category, category),
        (Product.own_brand, own_brand),
        (Product.active, active),
    ):
        if value is not None:
            condition &= column == value
    rows = (
        await Product.select()
        .where(condition)
        .order_by(Product.category)
        .order_by(Product.name)
        .limit(limit)
        .offset(offset)
        .run()
    )
    total = await Product.count().where(condition).run()
    items = [msgspec.convert(r, schemas.Product, strict=False) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_product(principal: Principal, product_id: uuid.UUID) -> schemas.Product:
    row = await Product.select().where((Product.org_id == principal.org_id) & (Product.id == product_id)).first().run()
    if row is None:
        raise NotFound("Product not found", code="product.not_found")
    return msgspec.convert(row, schemas.Product, strict=False)


async def create_product(principal: Principal, data: schemas.ProductCreate) -> schemas.Product:
    _check_barcode(data.barcode)
    product_id = new_id()
    async with write_transaction():
        await _check_unique(principal.org_id, data.code, data.barcode, None)
        await Product.insert(Product(id=product_id, org_id=principal.org_id, **msgspec.structs.asdict(data))).run()
        await record_domain(principal.org_id, "product", [product_id])
    return await get_product(principal, product_id)


async def update_product(principal: Principal, product_id: uuid.UUID, data: schemas.ProductUpdate) -> schemas.Product:
    await get_product(principal, product_id)
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if values.get("barcode") is not None:
        _check_barcode(values["barcode"])
    async with write_transaction():
        await _check_unique(principal.org_id, values.get("code"), values.get("barcode"), product_id)
        values["updated_at"] = utcnow()
        await (
            Product.update({getattr(Product, k): v for k, v in values.items()})
            .where((Product.id == product_id) & (Product.org_id == principal.org_id))
            .run()
        )
        await record_domain(principal.org_id, "product", [product_id])
    return await get_product(principal, product_id)


def _assortment_scope(principal: Principal) -> Any:
    return Assortment.org_id == principal.org_id


async def list_assortments(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    product_id: uuid.UUID | None = None,
    store_id: uuid.UUID | None = None,
    chain: str | None = None,
    channel: str | None = None,
) -> Page[schemas.Assortment]:
    condition: Combinable = _assortment_scope(principal)
    for column, value in (
        (Assortment.product_id, product_id),
        (Assortment.store_id, store_id),
        (Assortment.chain, chain),
        (Assortment.channel, channel),
    ):
        if value is not None:
            condition &= column == value
    rows = (
        await Assortment.select()
        .where(condition)
        .order_by(Assortment.created_at)
        .order_by(Assortment.id)
        .limit(limit)
        .offset(offset)
        .run()
    )
    total = await Assortment.count().where(condition).run()
    items = [msgspec.convert(r, schemas.Assortment, strict=False) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_assortment(principal: Principal, assortment_id: uuid.UUID) -> schemas.Assortment:
    row = await Assortment.select().where(_assortment_scope(principal) & (Assortment.id == assortment_id)).first().run()
    if row is None:
        raise NotFound("Assortment rule not found", code="assortment.not_found")
    return msgspec.convert(row, schemas.Assortment, strict=False)


async def create_assortment(principal: Principal, data: schemas.AssortmentCreate) -> schemas.Assortment:
    targets = [name for name in ("store_id", "chain", "channel") if getattr(data, name) is not None]
    if len(targets) != 1:
        raise Invalid.field("store_id", "give exactly one of store_id, chain or channel", code="assortment.target")
    if not await Product.exists().where((Product.id == data.product_id) & (Product.org_id == principal.org_id)).run():
        raise Invalid.field("product_id", "no such product in this organisation")
    if (
        data.store_id is not None
        and not await Store.exists().where((Store.id == data.store_id) & (Store.org_id == principal.org_id)).run()
    ):
        raise Invalid.field("store_id", "no such store in this organisation")
    target = targets[0]
    same = (
        (Assortment.org_id == principal.org_id)
        & (Assortment.product_id == data.product_id)
        & (getattr(Assortment, target) == getattr(data, target))
    )
    assortment_id = new_id()
    async with write_transaction():
        if await Assortment.exists().where(same).run():
            raise Conflict("This product is already in that assortment", code="assortment.exists")
        await Assortment.insert(
            Assortment(id=assortment_id, org_id=principal.org_id, **msgspec.structs.asdict(data))
        ).run()
        await record_domain(principal.org_id, "assortment", [assortment_id])
    return await get_assortment(principal, assortment_id)


async def update_assortment(
    principal: Principal, assortment_id: uuid.UUID, data: schemas.AssortmentUpdate
) -> schemas.Assortment:
    await get_assortment(principal, assortment_id)
    values = {getattr(Assortment, k): v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    values[Assortment.updated_at] = utcnow()
    async with write_transaction():
        await (
            Assortment.update(values)
            .where((Assortment.id == assortment_id) & (Assortment.org_id == principal.org_id))
            .run()
        )
        await record_domain(principal.org_id, "assortment", [assortment_id])
    return await get_assortment(principal, assortment_id)


async def delete_assortment(principal: Principal, assortment_id: uuid.UUID) -> None:
    await get_assortment(principal, assortment_id)
    async with write_transaction():
        await (
            Assortment.delete().where((Assortment.id == assortment_id) & (Assortment.org_id == principal.org_id)).run()
        )
        await record_delete(principal.org_id, "assortment", assortment_id)
