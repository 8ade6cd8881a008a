"""Closing the day: a planned visit nobody checked in to by the end of its day (the rep's time zone, else the
organisation's) becomes `missed`. A check-in made offline that day and synced later turns it back (judging.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

from backend.db import write_transaction
from backend.orgs.tables import Organization, User
from backend.sync_api.record import record_rows
from backend.tables_base import utcnow
from backend.visits.alerts import alert_missed
from backend.visits.tables import Visit


def local_today(time_zone: str, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(time_zone)).date()


async def close_days(now: dt.datetime | None = None) -> int:
    """Mark every planned, never checked-in visit of a day that has ended as missed. Returns how many.

    Reps are grouped by organisation and local date (their time zone decides when their day ends), so the job
    costs one query per group, not one per rep.
    """
    now = now or utcnow()
    zones = {o["id"]: o["time_zone"] for o in await Organization.select(Organization.id, Organization.time_zone).run()}
    reps = await User.select(User.id, User.org_id, User.time_zone).where(User.role == "rep").run()
    groups: dict[tuple[uuid.UUID, dt.date], list[uuid.UUID]] = defaultdict(list)
    for rep in reps:
        today = local_today(rep["time_zone"] or zones.get(rep["org_id"], "UTC"), now)
        groups[(rep["org_id"], today)].append(rep["id"])
    closed = 0
    for (org_id, today), rep_ids in groups.items():
        closed += await _close(org_id, rep_ids, today)
    return closed


async def _close(org_id: uuid.UUID, rep_ids: list[uuid.UUID], today: dt.date) -> int:
    async with write_transaction():
        due = (
            await Visit.select(Visit.id, Visit.rep_id, Visit.store_id, Visit.planned_date)
            .where(
                (Visit.org_id == org_id)
                & Visit.rep_id.is_in(rep_ids)
                & (Visit.state == "planned")
                & Visit.check_in_at.is_null()
                & (Visit.planned_date < today)
            )
            .run()
        )
        if not due:
            return 0
        ids = [r["id"] for r in due]
        await Visit.update({Visit.state: "missed"}).where(Visit.id.is_in(ids)).run()
        await record_rows(org_id, "visit", [(i, {"state": "missed"}) for i in ids])
        await alert_missed(org_id, [(r["id"], r["rep_id"], r["store_id"], r["planned_date"]) for r in due])
        return len(ids)
