"""Push subscriptions and notification preferences of the signed-in user."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import Invalid, NotFound
from backend.fields import check_time_zone
from backend.orgs.tables import User
from backend.push import schemas
from backend.push.endpoints import endpoint_problem
from backend.push.tables import PushSubscription
from backend.settings import Settings
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Reminder


async def subscribe(principal: Principal, data: schemas.SubscriptionCreate, settings: Settings) -> schemas.Subscription:
    """Register a device; the same endpoint registered again (even by another user of that browser) is updated
    and now belongs to the caller."""
    problem = endpoint_problem(data.endpoint, settings)
    if problem:
        raise Invalid.field("endpoint", problem, code="push.endpoint_refused")
    expires = (
        dt.datetime.fromtimestamp(data.expiration_time / 1000, tz=dt.UTC) if data.expiration_time is not None else None
    )
    values: dict[str, Any] = {
        "org_id": principal.org_id,
        "user_id": principal.user_id,
        "p256dh": data.keys.p256dh.rstrip("="),
        "auth": data.keys.auth.rstrip("="),
        "user_agent": data.user_agent,
        "expires_at": expires,
        "failures": 0,
        "updated_at": utcnow(),
    }
    async with write_transaction():
        known = (
            await PushSubscription.select(PushSubscription.id, PushSubscription.user_id)
            .where(PushSubscription.endpoint == data.endpoint)
            .first()
            .run()
        )
        if known and known["user_id"] != principal.user_id:
            # Another user of this browser: their queued messages must not reach the new owner (they cascade away).
            await PushSubscription.delete().where(PushSubscription.id == known["id"]).run()
            known = None
        if known:
            await (
                PushSubscription.update({getattr(PushSubscription, k): v for k, v in values.items()})
                .where(PushSubscription.id == known["id"])
                .run()
            )
        else:
            # Two registrations of one new endpoint at once: the second updates the first's row.
            await (
                PushSubscription.insert(PushSubscription(id=new_id(), endpoint=data.endpoint, **values))
                .on_conflict(
                    target=PushSubscription.endpoint,
                    action="DO UPDATE",
                    values=[getattr(PushSubscription, k) for k in values],
                )
                .run()
            )
    found = await _mine(principal).where(PushSubscription.endpoint == data.endpoint).first().run()
    return msgspec.convert(found, schemas.Subscription, strict=False)


def _mine(principal: Principal) -> Any:
    return PushSubscription.select(
        PushSubscription.id,
        PushSubscription.endpoint,
        PushSubscription.user_agent,
        PushSubscription.expires_at,
        PushSubscription.failures,
        PushSubscription.last_success_at,
        PushSubscription.created_at,
    ).where((PushSubscription.user_id == principal.user_id) & (PushSubscription.org_id == principal.org_id))


async def list_subscriptions(principal: Principal) -> list[schemas.Subscription]:
    rows = await _mine(principal).order_by(PushSubscription.created_at).run()
    return [msgspec.convert(r, schemas.Subscription, strict=False) for r in rows]


async def unsubscribe(principal: Principal, endpoint: str) -> None:
    """Forget one of the caller's devices (logout, notifications turned off); another user's is a 404."""
    deleted = (
        await PushSubscription.delete()
        .where(
            (PushSubscription.endpoint == endpoint)
            & (PushSubscription.user_id == principal.user_id)
            & (PushSubscription.org_id == principal.org_id)
        )
        .returning(PushSubscription.id)
        .run()
    )
    if not deleted:
        raise NotFound("No such subscription of yours", code="push.no_such_subscription")


async def preferences(principal: Principal) -> schemas.Preferences:
    row = (
        await User.select(User.time_zone, User.quiet_start, User.quiet_end)
        .where((User.id == principal.user_id) & (User.org_id == principal.org_id))
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such user", code="user.not_found")
    return msgspec.convert(row, schemas.Preferences, strict=False)


async def set_preferences(principal: Principal, data: schemas.Preferences) -> schemas.Preferences:
    check_time_zone(data.time_zone)
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise Invalid.field("quiet_end", "give both quiet_start and quiet_end, or neither", code="push.quiet_hours")
    # Reminders held back by the old quiet hours are looked at again with the new ones.
    await (
        Reminder.update({Reminder.deliver_after: None})
        .where((Reminder.user_id == principal.user_id) & (Reminder.status == "pending"))
        .run()
    )
    await (
        User.update(
            {
                User.time_zone: data.time_zone,
                User.quiet_start: data.quiet_start,
                User.quiet_end: data.quiet_end,
                User.updated_at: utcnow(),
            }
        )
        .where((User.id == principal.user_id) & (User.org_id == principal.org_id))
        .run()
    )
    return await preferences(principal)
