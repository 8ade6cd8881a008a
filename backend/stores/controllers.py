from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE, STAFF
from backend.bodies import read_limited
from backend.deps import Caller, SettingsDep
from backend.errors import Invalid
from backend.fields import Limit, Offset
from backend.paging import Page
from backend.stores import csv_import, services, territories
from backend.stores.schemas import (
    Channel,
    ImportResult,
    Store,
    StoreCreate,
    StoreUpdate,
    Territory,
    TerritoryCreate,
    TerritoryUpdate,
)

CSV = "text/csv"


class StoreController(Controller):
    path = "/api/v1/stores"
    tags = ["stores"]

    @get(
        "/",
        guards=EVERYONE,
        summary="Stores in the caller's scope (a rep: assigned ones; a supervisor: the team's)",
    )
    async def list_stores(
        self,
        principal: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
        q: FromQuery[str | None] = None,
        chain: FromQuery[str | None] = None,
        channel: FromQuery[Channel | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        assigned_rep_id: FromQuery[uuid.UUID | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> Page[Store]:
        return await services.list_stores(
            principal,
            limit=limit,
            offset=offset,
            q=q,
            chain=chain,
            channel=channel,
            territory_id=territory_id,
            assigned_rep_id=assigned_rep_id,
            active=active,
        )

    @post("/", guards=ADMIN, summary="Create a store")
    async def create_store(self, data: JSONBody[StoreCreate], principal: Caller) -> Store:
        return await services.create_store(principal, data)

    @get("/{store_id:uuid}", guards=EVERYONE, summary="One store in the caller's scope")
    async def get_store(self, store_id: FromPath[uuid.UUID], principal: Caller) -> Store:
        return await services.get_store(principal, store_id)

    @patch("/{store_id:uuid}", guards=ADMIN, summary="Change a store; `active: false` retires it")
    async def update_store(
        self, store_id: FromPath[uuid.UUID], data: JSONBody[StoreUpdate], principal: Caller
    ) -> Store:
        return await services.update_store(principal, store_id, data)

    @post(
        "/import",
        guards=ADMIN,
        status_code=200,
        summary="Import stores from CSV (text/csv body): all rows or none; errors name each row and column",
        request_max_body_size=None,  # checked against FIELDBOOK_MAX_IMPORT_BYTES below
    )
    async def import_stores(
        self, request: Request[Any, Any, Any], principal: Caller, settings: SettingsDep
    ) -> ImportResult:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (CSV, "text/plain", "application/csv"):
            raise Invalid.field("content-type", "send the file as text/csv", code="import.content_type")
        body = await read_limited(request, settings.max_import_bytes)
        return await csv_import.import_stores(principal, body)

    @get("/export", guards=STAFF, summary="The stores in the caller's scope as CSV (the import format)")
    async def export_stores(self, principal: Caller) -> Response[str]:
        return Response(
            await csv_import.export_stores(principal),
            media_type=CSV,
            headers={"Content-Disposition": 'attachment; filename="stores.csv"'},
        )


class TerritoryController(Controller):
    path = "/api/v1/territories"
    tags = ["territories"]

    @get("/", guards=STAFF, summary="Territories: an admin sees all, a supervisor the ones they supervise")
    async def list_territories(self, principal: Caller, limit: Limit = 50, offset: Offset = 0) -> Page[Territory]:
        return await territories.list_territories(principal, limit=limit, offset=offset)

    @post("/", guards=ADMIN, summary="Create a territory")
    async def create_territory(self, data: JSONBody[TerritoryCreate], principal: Caller) -> Territory:
        return await territories.create_territory(principal, data)

    @get("/{territory_id:uuid}", guards=STAFF, summary="One territory")
    async def get_territory(self, territory_id: FromPath[uuid.UUID], principal: Caller) -> Territory:
        return await territories.get_territory(principal, territory_id)

    @patch("/{territory_id:uuid}", guards=ADMIN, summary="Change a territory")
    async def update_territory(
        self, territory_id: FromPath[uuid.UUID], data: JSONBody[TerritoryUpdate], principal: Caller
    ) -> Territory:
        return await territories.update_territory(principal, territory_id, data)

    @delete("/{territory_id:uuid}", guards=ADMIN, summary="Delete a territory; its stores stay, without territory")
    async def delete_territory(self, territory_id: FromPath[uuid.UUID], principal: Caller) -> None:
        await territories.delete_territory(principal, territory_id)
