"""The in-app inbox: the caller's reminders and alerts, so nothing is missed with notifications blocked.

Snoozing and dismissing write the reminder row and record it for sync, like the phone's own edits."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import NotFound
from backend.paging import Page
from backend.push import schemas
from backend.sync_api.record import record_domain
from backend.tables_base import utcnow
from backend.visits.tables import Reminder

SHOWN = ["pending", "sent"]


def _mine(principal: Principal) -> Combinable:
    return (Reminder.org_id == principal.org_id) & (Reminder.user_id == principal.user_id)


async def inbox(
    principal: Principal, *, status: schemas.InboxStatus, limit: int, offset: int
) -> Page[schemas.InboxItem]:
    """open: due and not dismissed, newest first; upcoming: not due yet, soonest first; all: everything."""
    now = utcnow()
    condition = _mine(principal)
    query = Reminder.select(*Reminder.all_columns(exclude=[Reminder.org_id, Reminder.user_id, Reminder.updated_at]))
    if status == "open":
        condition &= Reminder.status.is_in(SHOWN) & (Reminder.due_at <= now)
        query = query.order_by(Reminder.due_at, ascending=False)
    elif status == "upcoming":
        condition &= (Reminder.status == "pending") & (Reminder.due_at > now)
        query = query.order_by(Reminder.due_at)
    else:
        query = query.order_by(Reminder.due_at, ascending=False)
    rows = await query.where(condition).limit(limit).offset(offset).run()
    total = await Reminder.count().where(condition).run()
    items = [msgspec.convert(r, schemas.InboxItem, strict=False) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def _change(principal: Principal, reminder_id: uuid.UUID, values: dict[str, object]) -> schemas.InboxItem:
    async with write_transaction():
        changed = (
            await Reminder.update(
                {getattr(Reminder, k): v for k, v in values.items()} | {Reminder.updated_at: utcnow()}
            )
            .where(_mine(principal) & (Reminder.id == reminder_id))
            .returning(Reminder.id)
            .run()
        )
        if not changed:
            raise NotFound("No such reminder of yours", code="reminder.not_found")
        await record_domain(principal.org_id, "reminder", [reminder_id])
    row = await Reminder.select().where(Reminder.id == reminder_id).first().run()
    return msgspec.convert(row, schemas.InboxItem, strict=False)


async def snooze(principal: Principal, reminder_id: uuid.UUID, minutes: int) -> schemas.InboxItem:
    """Due again in `minutes` (and sent again then, to every device)."""
    due = utcnow() + dt.timedelta(minutes=minutes)
    return await _change(principal, reminder_id, {"status": "pending", "due_at": due, "deliver_after": None})


async def dismiss(principal: Principal, reminder_id: uuid.UUID) -> schemas.InboxItem:
    """Done with: never sent (again)."""
    return await _change(principal, reminder_id, {"status": "dismissed"})
