"""Organisations and users: creation, scoped queries, updates."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.custom_types import Combinable

from backend.auth.passwords import check_policy, hash_password
from backend.auth.principal import Principal
from backend.db import contains, write_transaction
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.fields import check_time_zone
from backend.orgs import schemas
from backend.orgs.tables import Organization, User
from backend.paging import Page
from backend.sync_api.record import rescope_audience
from backend.tables_base import new_id, utcnow

USER_COLUMNS = [c for c in User._meta.columns if c._meta.name != "password_hash"]


def to_user(row: dict[str, Any]) -> schemas.User:
    return msgspec.convert(row, schemas.User, strict=False)


async def create_organization(
    name: str, *, time_zone: str = "UTC", locale: str = "en", currency: str = "USD"
) -> schemas.Organization:
    name = name.strip()
    if not name:
        raise Invalid.field("name", "must not be empty")
    check_time_zone(time_zone)
    org = Organization(id=new_id(), name=name, time_zone=time_zone, locale=locale, currency=currency)
    async with write_transaction():
        if await Organization.exists().where(Organization.name == name).run():
            raise Conflict(f"An organisation named {name!r} exists already", code="org.exists")
        await Organization.insert(org).run()
    return schemas.Organization(org.id, org.name, org.time_zone, org.locale, org.currency)


async def find_organization(name_or_id: str) -> schemas.Organization:
    """An organisation by exact name or id (for the CLI)."""
    condition: Combinable = Organization.name == name_or_id
    with contextlib.suppress(ValueError):
        condition |= Organization.id == uuid.UUID(name_or_id)
    row = await Organization.select().where(condition).first().run()
    if row is None:
        raise NotFound(f"No organisation {name_or_id!r}", code="org.not_found")
    return msgspec.convert(row, schemas.Organization, strict=False)


async def get_organization(org_id: uuid.UUID) -> schemas.Organization:
    row = await Organization.select().where(Organization.id == org_id).first().run()
    if row is None:
        raise NotFound("Organisation not found", code="org.not_found")
    return msgspec.convert(row, schemas.Organization, strict=False)


def _visible_users(principal: Principal) -> Any:
    """The users the caller may see: admin all of the organisation, supervisor self and team, rep self."""
    condition: Combinable = User.org_id == principal.org_id
    if principal.is_supervisor:
        condition &= (User.id == principal.user_id) | (User.supervisor_id == principal.user_id)
    elif principal.is_rep:
        condition &= User.id == principal.user_id
    return condition


async def list_users(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    role: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> Page[schemas.User]:
    condition: Combinable = _visible_users(principal)
    if role:
        condition &= User.role == role
    if active is not None:
        condition &= User.active == active
    if q:
        condition &= contains(User.email, q) | contains(User.name, q)
    rows = await User.select(*USER_COLUMNS).where(condition).order_by(User.name).limit(limit).offset(offset).run()
    total = await User.count().where(condition).run()
    return Page(items=[to_user(r) for r in rows], total=total, limit=limit, offset=offset)


async def get_user(principal: Principal, user_id: uuid.UUID) -> schemas.User:
    row = await User.select(*USER_COLUMNS).where(_visible_users(principal) & (User.id == user_id)).first().run()
    if row is None:
        raise NotFound("User not found", code="user.not_found")
    return to_user(row)


async def check_supervisor(
    org_id: uuid.UUID, supervisor_id: uuid.UUID | None, user_id: uuid.UUID | None = None
) -> None:
    """`supervisor_id` names a supervisor or admin of the organisation (and not the user themselves)."""
    if supervisor_id is None:
        return
    if supervisor_id == user_id:
        raise Invalid.field("supervisor_id", "a user cannot supervise themselves")
    row = await User.select(User.role).where((User.id == supervisor_id) & (User.org_id == org_id)).first().run()
    if row is None:
        raise Invalid.field("supervisor_id", "no such user in this organisation")
    if row["role"] not in ("supervisor", "admin"):
        raise Invalid.field("supervisor_id", "must be a supervisor or an admin")


async def create_user(org_id: uuid.UUID, data: schemas.UserCreate) -> schemas.User:
    email = data.email.strip().lower()
    check_policy(data.password, email=email)
    check_time_zone(data.time_zone)
    if (data.home_lat is None) != (data.home_lng is None):
        raise Invalid.field("home_lat", "home_lat and home_lng go together")
    await check_supervisor(org_id, data.supervisor_id, None)
    password_hash = await hash_password(data.password)
    async with write_transaction():
        if await User.exists().where(User.email == email).run():
            raise Conflict(f"A user with email {email} exists already", code="user.email_taken")
        user = User(
            id=new_id(),
            org_id=org_id,
            email=email,
            password_hash=password_hash,
            name=data.name.strip(),
            role=data.role,
            supervisor_id=data.supervisor_id,
            time_zone=data.time_zone,
            locale=data.locale,
            home_lat=data.home_lat,
            home_lng=data.home_lng,
            active=True,
        )
        await user.save().run()
    return await get_user_by_id(user.id)


async def get_user_by_id(user_id: uuid.UUID) -> schemas.User:
    row = await User.select(*USER_COLUMNS).where(User.id == user_id).first().run()
    if row is None:
        raise NotFound("User not found", code="user.not_found")
    return to_user(row)


async def update_user(principal: Principal, user_id: uuid.UUID, data: schemas.UserUpdate) -> schemas.User:
    if not principal.is_admin:
        raise Forbidden("Only an admin can change users")
    current = await get_user(principal, user_id)
    changes: dict[Any, Any] = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is not UNSET and field != "password":
            changes[getattr(User, field)] = value
    if data.time_zone is not UNSET:
        check_time_zone(data.time_zone)
    if data.supervisor_id is not UNSET:
        await check_supervisor(principal.org_id, data.supervisor_id, user_id)
    lat = current.home_lat if data.home_lat is UNSET else data.home_lat
    lng = current.home_lng if data.home_lng is UNSET else data.home_lng
    if (lat is None) != (lng is None):
        raise Invalid.field("home_lat", "home_lat and home_lng go together")
    if user_id == principal.user_id and (data.active is False or data.role not in (UNSET, "admin")):
        raise Invalid.field(
            "role" if data.role is not UNSET else "active", "admins cannot demote or deactivate themselves"
        )
    now = utcnow()
    if data.password is not UNSET:
        check_policy(data.password, email=current.email)
        changes[User.password_hash] = await hash_password(data.password)
    if data.password is not UNSET or data.active is False:
        # Both end every session the user has: tokens issued before now are refused.
        changes[User.tokens_valid_after] = now.replace(microsecond=0)
    changes[User.updated_at] = now
    async with write_transaction():
        await User.update(changes).where((User.id == user_id) & (User.org_id == principal.org_id)).run()
        if data.supervisor_id is not UNSET and data.supervisor_id != current.supervisor_id:
            # The rows this user owns now show to another supervisor (docs/sync-protocol.md 5.3).
            await rescope_audience(principal.org_id, owner_id=user_id, lost_by=current.supervisor_id)
    return await get_user_by_id(user_id)


async def first_admin(org_id: uuid.UUID) -> schemas.User | None:
    """The organisation's longest-serving active admin (whom command-line imports act as), or None."""
    row = (
        await User.select(*USER_COLUMNS)
        .where((User.org_id == org_id) & (User.role == "admin") & (User.active == True))  # noqa: E712
        .order_by(User.created_at)
        .first()
        .run()
    )
    return None if row is None else to_user(row)


async def find_user_by_email(email: str) -> dict[str, Any] | None:
    return await User.select().where(User.email == email.strip().lower()).first().run()
