"""The server's own reminders and alerts (out of stock, a flagged check-in, a missed day): rows of `reminder` with
ids derived from their cause, so a cause seen again never makes a second one (backend/inspections/ids.py).

`reconcile` makes the rows among the causes looked at match those wanted now: new ones are created pending; one
whose cause went away before it was sent is withdrawn, and comes back (pending) if the cause returns; a sent or
dismissed one is left alone. Every change is recorded for sync, so the recipient's devices have it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from backend.orgs.tables import Organization, User
from backend.sync_api.record import record_domain
from backend.tables_base import utcnow
from backend.visits.tables import Reminder


@dataclass(frozen=True)
class Notice:
    id: uuid.UUID
    kind: str  # reminder | alert
    user_id: uuid.UUID
    text: str
    due_at: dt.datetime
    store_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    urgent: bool = False


async def reconcile(org_id: uuid.UUID, wanted: Iterable[Notice], considered: Iterable[uuid.UUID]) -> int:
    """Create, revive or withdraw notices so that those among `considered` (and `wanted`) are `wanted`.
    Returns how many rows changed."""
    wanted_by_id = {n.id: n for n in wanted}
    candidates = list(set(considered) | set(wanted_by_id))
    if not candidates:
        return 0
    existing = {
        r["id"]: r["status"]
        for r in await Reminder.select(Reminder.id, Reminder.status).where(Reminder.id.is_in(candidates)).run()
    }
    now = utcnow()
    new = [n for i, n in wanted_by_id.items() if i not in existing]
    revive = [i for i in wanted_by_id if existing.get(i) == "withdrawn"]
    withdraw = [i for i, status in existing.items() if i not in wanted_by_id and status == "pending"]
    if new:
        await Reminder.insert(
            *(
                Reminder(
                    id=n.id,
                    org_id=org_id,
                    user_id=n.user_id,
                    store_id=n.store_id,
                    visit_id=n.visit_id,
                    kind=n.kind,
                    text=n.text,
                    due_at=n.due_at,
                    urgent=n.urgent,
                    status="pending",
                    created_at=now,
                    updated_at=now,
                )
                for n in new
            )
        ).run()
    changed = [n.id for n in new]
    # Only from the state read: a reminder the worker marked sent meanwhile stays sent.
    for rows, status, before in ((revive, "pending", "withdrawn"), (withdraw, "withdrawn", "pending")):
        if rows:
            done = (
                await Reminder.update({Reminder.status: status, Reminder.updated_at: now})
                .where(Reminder.id.is_in(rows) & (Reminder.status == before))
                .returning(Reminder.id)
                .run()
            )
            changed += [r["id"] for r in done]
    if changed:
        await record_domain(org_id, "reminder", changed)
    return len(changed)


async def languages(org_id: uuid.UUID, users: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each user's language for texts: "zh" or "en" (their locale, else the organisation's)."""
    users = set(users)
    if not users:
        return {}
    org = await Organization.select(Organization.locale).where(Organization.id == org_id).first().run()
    default = org["locale"] if org else "en"
    rows = await User.select(User.id, User.locale).where((User.org_id == org_id) & User.id.is_in(list(users))).run()
    found = {r["id"]: (r["locale"] or default) for r in rows}
    return {u: "zh" if found.get(u, default).lower().startswith("zh") else "en" for u in users}


async def supervisors(org_id: uuid.UUID, reps: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """rep -> (their supervisor, the rep's name), for reps who have a supervisor."""
    reps = set(reps)
    if not reps:
        return {}
    rows = (
        await User.select(User.id, User.name, User.supervisor_id)
        .where((User.org_id == org_id) & User.id.is_in(list(reps)))
        .run()
    )
    return {r["id"]: (r["supervisor_id"], r["name"]) for r in rows if r["supervisor_id"]}
