"""Territories: named areas with a polygon and a supervisor."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import Conflict, Invalid, NotFound
from backend.geo import polygon_problem
from backend.orgs.services import check_supervisor
from backend.paging import Page
from backend.stores import schemas
from backend.stores.tables import Store, Territory
from backend.sync_api.record import record_domain, rescope_audience
from backend.tables_base import new_id, utcnow


def _visible(principal: Principal) -> Any:
    condition: Combinable = Territory.org_id == principal.org_id
    if not principal.is_admin:
        condition &= Territory.supervisor_id == principal.user_id
    return condition


async def list_territories(principal: Principal, *, limit: int, offset: int) -> Page[schemas.Territory]:
    condition: Combinable = _visible(principal)
    rows = (
        await Territory.select()
        .where(condition)
        .order_by(Territory.name)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
        .run()
    )
    total = await Territory.count().where(condition).run()
    items = [msgspec.convert(r, schemas.Territory, strict=False) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_territory(principal: Principal, territory_id: uuid.UUID) -> schemas.Territory:
    row = (
        await Territory.select()
        .where(_visible(principal) & (Territory.id == territory_id))
        .first()
        .output(load_json=True)
        .run()
    )
    if row is None:
        raise NotFound("Territory not found", code="territory.not_found")
    return msgspec.convert(row, schemas.Territory, strict=False)


async def _check(org_id: uuid.UUID, polygon: dict[str, Any] | None, supervisor_id: uuid.UUID | None) -> None:
    if polygon is not None:
        problem = polygon_problem(polygon)
        if problem:
            raise Invalid.field("polygon", problem)
    await check_supervisor(org_id, supervisor_id)


async def _name_taken(org_id: uuid.UUID, name: str, except_id: uuid.UUID | None = None) -> bool:
    condition: Combinable = (Territory.org_id == org_id) & (Territory.name == name)
    if except_id is not None:
        condition &= Territory.id != except_id
    return await Territory.exists().where(condition).run()


def _encode(polygon: dict[str, Any] | None) -> str | None:
    return None if polygon is None else msgspec.json.encode(polygon).decode()


async def create_territory(principal: Principal, data: schemas.TerritoryCreate) -> schemas.Territory:
    await _check(principal.org_id, data.polygon, data.supervisor_id)
    territory_id = new_id()
    async with write_transaction():
        if await _name_taken(principal.org_id, data.name):
            raise Conflict(f"A territory named {data.name!r} exists already", code="territory.name_taken")
        await Territory.insert(
            Territory(
                id=territory_id,
                org_id=principal.org_id,
                name=data.name,
                polygon=_encode(data.polygon),
                supervisor_id=data.supervisor_id,
            )
        ).run()
    return await get_territory(principal, territory_id)


async def update_territory(
    principal: Principal, territory_id: uuid.UUID, data: schemas.TerritoryUpdate
) -> schemas.Territory:
    before = await get_territory(principal, territory_id)
    await _check(
        principal.org_id,
        None if data.polygon is UNSET else data.polygon,
        None if data.supervisor_id is UNSET else data.supervisor_id,
    )
    values: dict[Any, Any] = {Territory.updated_at: utcnow()}
    if data.name is not UNSET:
        values[Territory.name] = data.name
    if data.polygon is not UNSET:
        values[Territory.polygon] = _encode(data.polygon)
    if data.supervisor_id is not UNSET:
        values[Territory.supervisor_id] = data.supervisor_id
    async with write_transaction():
        if data.name is not UNSET and await _name_taken(principal.org_id, data.name, territory_id):
            raise Conflict(f"A territory named {data.name!r} exists already", code="territory.name_taken")
        await (
            Territory.update(values)
            .where((Territory.id == territory_id) & (Territory.org_id == principal.org_id))
            .run()
        )
        if data.supervisor_id is not UNSET and data.supervisor_id != before.supervisor_id:
            await rescope_audience(principal.org_id, territory_id=territory_id, lost_by=before.supervisor_id)
    return await get_territory(principal, territory_id)


async def delete_territory(principal: Principal, territory_id: uuid.UUID) -> None:
    """Delete a territory; its stores stay and simply belong to no territory."""
    await get_territory(principal, territory_id)
    async with write_transaction():
        stores = [r["id"] for r in await Store.select(Store.id).where(Store.territory_id == territory_id).run()]
        await Territory.delete().where((Territory.id == territory_id) & (Territory.org_id == principal.org_id)).run()
        await record_domain(principal.org_id, "store", stores)  # their territory_id is null now
