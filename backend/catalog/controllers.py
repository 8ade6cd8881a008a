from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE
from backend.catalog import services
from backend.catalog.schemas import (
    Assortment,
    AssortmentCreate,
    AssortmentUpdate,
    Product,
    ProductCreate,
    ProductUpdate,
)
from backend.deps import Caller
from backend.fields import Limit, Offset
from backend.paging import Page
from backend.stores.schemas import Channel


class ProductController(Controller):
    path = "/api/v1/products"
    tags = ["catalog"]

    @get("/", guards=EVERYONE, summary="The organisation's products; find by name, code, brand or barcode")
    async def list_products(
        self,
        principal: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
        q: FromQuery[str | None] = None,
        barcode: FromQuery[str | None] = None,
        brand: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        own_brand: FromQuery[bool | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> Page[Product]:
        return await services.list_products(
            principal,
            limit=limit,
            offset=offset,
            q=q,
            barcode=barcode,
            brand=brand,
            category=category,
            own_brand=own_brand,
            active=active,
        )

    @post("/", guards=ADMIN, summary="Create a product (barcode check digit verified)")
    async def create_product(self, data: JSONBody[ProductCreate], principal: Caller) -> Product:
        return await services.create_product(principal, data)

    @get("/{product_id:uuid}", guards=EVERYONE, summary="One product")
    async def get_product(self, product_id: FromPath[uuid.UUID], principal: Caller) -> Product:
        return await services.get_product(principal, product_id)

    @patch("/{product_id:uuid}", guards=ADMIN, summary="Change a product; `active: false` retires it")
    async def update_product(
        self, product_id: FromPath[uuid.UUID], data: JSONBody[ProductUpdate], principal: Caller
    ) -> Product:
        return await services.update_product(principal, product_id, data)


class AssortmentController(Controller):
    path = "/api/v1/assortments"
    tags = ["catalog"]

    @get("/", guards=EVERYONE, summary="Must-stock rules (by store, chain or channel)")
    async def list_assortments(
        self,
        principal: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
        product_id: FromQuery[uuid.UUID | None] = None,
        store_id: FromQuery[uuid.UUID | None] = None,
        chain: FromQuery[str | None] = None,
        channel: FromQuery[Channel | None] = None,
    ) -> Page[Assortment]:
        return await services.list_assortments(
            principal,
            limit=limit,
            offset=offset,
            product_id=product_id,
            store_id=store_id,
            chain=chain,
            channel=channel,
        )

    @post("/", guards=ADMIN, summary="Add a must-stock rule")
    async def create_assortment(self, data: JSONBody[AssortmentCreate], principal: Caller) -> Assortment:
        return await services.create_assortment(principal, data)

    @get("/{assortment_id:uuid}", guards=EVERYONE, summary="One must-stock rule")
    async def get_assortment(self, assortment_id: FromPath[uuid.UUID], principal: Caller) -> Assortment:
        return await services.get_assortment(principal, assortment_id)

    @patch("/{assortment_id:uuid}", guards=ADMIN, summary="Change a rule's targets")
    async def update_assortment(
        self, assortment_id: FromPath[uuid.UUID], data: JSONBody[AssortmentUpdate], principal: Caller
    ) -> Assortment:
        return await services.update_assortment(principal, assortment_id, data)

    @delete("/{assortment_id:uuid}", guards=ADMIN, summary="Remove a must-stock rule")
    async def delete_assortment(self, assortment_id: FromPath[uuid.UUID], principal: Caller) -> None:
        await services.delete_assortment(principal, assortment_id)
