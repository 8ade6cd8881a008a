from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE
from backend.bodies import read_limited
from backend.catalog import csv_import, services
from backend.catalog.schemas import (
    Assortment,
    AssortmentCreate,
    AssortmentImportResult,
    AssortmentUpdate,
    Product,
    ProductCreate,
    ProductUpdate,
)
from backend.deps import Caller, SettingsDep
from backend.errors import Invalid
from backend.fields import Limit, Offset
from backend.paging import Page
from backend.settings import Settings
from backend.stores.schemas import Channel, ImportResult

CSV = "text/csv"


async def _csv_body(request: Request[Any, Any, Any], settings: Settings) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (CSV, "text/plain", "application/csv"):
        raise Invalid.field("content-type", "send the file as text/csv", code="import.content_type")
    return await read_limited(request, settings.max_import_bytes)


def _csv_file(text: str, name: str) -> Response[str]:
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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

    @post(
        "/import",
        guards=ADMIN,
        status_code=200,
        summary="Import products from CSV (text/csv body): all rows or none; errors name each row and column",
        request_max_body_size=None,  # checked against FIELDBOOK_MAX_IMPORT_BYTES in _csv_body
    )
    async def import_products(
        self, request: Request[Any, Any, Any], principal: Caller, settings: SettingsDep
    ) -> ImportResult:
        return await csv_import.import_products(principal, await _csv_body(request, settings))

    @get("/export", guards=EVERYONE, summary="The organisation's products as CSV (the import format)")
    async def export_products(self, principal: Caller) -> Response[str]:
        return _csv_file(await csv_import.export_products(principal), "products.csv")


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

    @post(
        "/import",
        guards=ADMIN,
        status_code=200,
        summary="Import must-stock rules from CSV (text/csv body): all rows or none; `replace=true` also deletes "
        "the rules the file leaves out",
        request_max_body_size=None,  # checked against FIELDBOOK_MAX_IMPORT_BYTES in _csv_body
    )
    async def import_assortments(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        settings: SettingsDep,
        replace: FromQuery[bool] = False,
    ) -> AssortmentImportResult:
        body = await _csv_body(request, settings)
        return await csv_import.import_assortments(principal, body, replace=replace)

    @get("/export", guards=EVERYONE, summary="The organisation's must-stock rules as CSV (the import format)")
    async def export_assortments(self, principal: Caller) -> Response[str]:
        return _csv_file(await csv_import.export_assortments(principal), "assortments.csv")
