"""Stores: scoped queries, creation and updates with the rules that need the database."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.db import contains, write_transaction
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.geo import MAX_FENCE_OFFSET_M, polygon_offset_m, polygon_problem
from backend.orgs.tables import User
from backend.orgs.teams import team_rep_ids
from backend.paging import Page
from backend.stores import fences, schemas
from backend.stores.tables import Store, Territory
from backend.stores.text_formats import check_opening_hours
from backend.sync_api.record import record_domain
from backend.tables_base import new_id, utcnow

JSON_FIELDS = ("geofence", "opening_hours", "visit_frequency")


def to_store(row: dict[str, Any]) -> schemas.Store:
    return msgspec.convert(row, schemas.Store, strict=False)


async def visible_stores(principal: Principal) -> Any:
    """The condition for the stores the caller may see.

    A rep: the stores assigned to them. A supervisor: those assigned to their team's reps, and every store in a
    territory they supervise. An admin: the whole organisation.
    """
    condition: Combinable = Store.org_id == principal.org_id
    if principal.is_rep:
        return condition & (Store.assigned_rep_id == principal.user_id)
    if principal.is_supervisor:
        team = await team_rep_ids(principal)
        territories = [
            r["id"]
            for r in await Territory.select(Territory.id)
            .where((Territory.org_id == principal.org_id) & (Territory.supervisor_id == principal.user_id))
            .run()
        ]
        parts = []
        if team:
            parts.append(Store.assigned_rep_id.is_in(team))
        if territories:
            parts.append(Store.territory_id.is_in(territories))
        if not parts:
            return condition & (Store.id.is_null())  # sees nothing
        scope: Combinable = parts[0]
        for part in parts[1:]:
            scope |= part
        return condition & scope
    return condition


async def list_stores(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    q: str | None = None,
    chain: str | None = None,
    channel: str | None = None,
    territory_id: uuid.UUID | None = None,
    assigned_rep_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> Page[schemas.Store]:
    condition: Combinable = await visible_stores(principal)
    if q:
        condition &= contains(Store.name, q) | contains(Store.code, q) | contains(Store.address, q)
    if chain:
        condition &= Store.chain == chain
    if channel:
        condition &= Store.channel == channel
    if territory_id:
        condition &= Store.territory_id == territory_id
    if assigned_rep_id:
        condition &= Store.assigned_rep_id == assigned_rep_id
    if active is not None:
        condition &= Store.active == active
    rows = (
        await Store.select()
        .where(condition)
        .order_by(Store.name)
        .order_by(Store.id)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
        .run()
    )
    total = await Store.count().where(condition).run()
    return Page(items=[to_store(r) for r in rows], total=total, limit=limit, offset=offset)


async def get_store(principal: Principal, store_id: uuid.UUID) -> schemas.Store:
    condition: Combinable = await visible_stores(principal)
    row = await Store.select().where(condition & (Store.id == store_id)).first().output(load_json=True).run()
    if row is None:
        raise NotFound("Store not found", code="store.not_found")
    return to_store(row)


async def check_references(
    org_id: uuid.UUID, assigned_rep_id: uuid.UUID | None, territory_id: uuid.UUID | None
) -> None:
    if assigned_rep_id is not None:
        rep = await User.select(User.role).where((User.id == assigned_rep_id) & (User.org_id == org_id)).first().run()
        if rep is None:
            raise Invalid.field("assigned_rep_id", "no such user in this organisation")
        if rep["role"] != "rep":
            raise Invalid.field("assigned_rep_id", "must be a rep")
    if (
        territory_id is not None
        and not await Territory.exists().where((Territory.id == territory_id) & (Territory.org_id == org_id)).run()
    ):
        raise Invalid.field("territory_id", "no such territory in this organisation")


def check_shape(geofence: schemas.Geofence, opening_hours: schemas.OpeningHours | None, lat: float, lng: float) -> None:
    """Rules that need more than one field: a fence polygon near its store, hours that do not overlap."""
    if isinstance(geofence, schemas.PolygonFence):
        problem = polygon_problem(geofence.polygon)
        if problem:
            raise Invalid.field("geofence.polygon", problem)
        offset = polygon_offset_m(geofence.polygon, lat, lng)
        if offset > MAX_FENCE_OFFSET_M:
            raise Invalid.field(
                "geofence.polygon",
                f"is {offset:.0f} m from the store's location (at most {MAX_FENCE_OFFSET_M:.0f})",
            )
    problem = check_opening_hours(opening_hours)
    if problem:
        raise Invalid.field("opening_hours", problem)


def store_values(data: schemas.StoreCreate | schemas.StoreUpdate) -> dict[str, Any]:
    """The set fields of a create or update body as column values (JSON fields encoded)."""
    values: dict[str, Any] = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is UNSET:
            continue
        if field in JSON_FIELDS:
            value = None if value is None else msgspec.json.encode(value).decode()
        values[field] = value
    return values


async def create_store(principal: Principal, data: schemas.StoreCreate) -> schemas.Store:
    if not principal.is_admin:
        raise Forbidden("Only an admin can create stores")
    check_shape(data.geofence, data.opening_hours, data.lat, data.lng)
    await check_references(principal.org_id, data.assigned_rep_id, data.territory_id)
    store_id = new_id()
    async with write_transaction():
        if await Store.exists().where((Store.org_id == principal.org_id) & (Store.code == data.code)).run():
            raise Conflict(f"A store with code {data.code!r} exists already", code="store.code_taken")
        await Store.insert(Store(id=store_id, org_id=principal.org_id, **store_values(data))).run()
        await record_domain(principal.org_id, "store", [store_id])
        await fences.remember(principal.org_id, [store_id])
    return await get_store(principal, store_id)


async def update_store(principal: Principal, store_id: uuid.UUID, data: schemas.StoreUpdate) -> schemas.Store:
    if not principal.is_admin:
        raise Forbidden("Only an admin can change stores")
    current = await get_store(principal, store_id)
    merged = msgspec.structs.replace(
        current, **{f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not UNSET}
    )
    check_shape(merged.geofence, merged.opening_hours, merged.lat, merged.lng)
    await check_references(principal.org_id, merged.assigned_rep_id, merged.territory_id)
    values = store_values(data)
    async with write_transaction():
        if (
            "code" in values
            and await Store.exists()
            .where((Store.org_id == principal.org_id) & (Store.code == values["code"]) & (Store.id != store_id))
            .run()
        ):
            raise Conflict(f"A store with code {values['code']!r} exists already", code="store.code_taken")
        values["updated_at"] = utcnow()
        await (
            Store.update({getattr(Store, k): v for k, v in values.items()})
            .where((Store.id == store_id) & (Store.org_id == principal.org_id))
            .run()
        )
        await record_domain(principal.org_id, "store", [store_id])
        await fences.remember(principal.org_id, [store_id])
    return await get_store(principal, store_id)
