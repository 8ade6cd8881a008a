"""Alerts for supervisors about their reps' visits: a check-in the server flagged, and planned visits missed by the
end of a day. One alert per cause (ids derived from it, backend/visits/notices.py); a flag that clears before the
alert was sent withdraws it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from backend.inspections.ids import NAMESPACE
from backend.stores.tables import Store
from backend.tables_base import utcnow
from backend.visits.notices import Notice, languages, reconcile, supervisors

# A visit judged again this long after the server first saw its check-in raises no new alert (history).
STALE_AFTER = dt.timedelta(days=3)

TEXTS = {
    "flagged": {
        "en": "Check-in by {rep} at {store} was flagged: {reasons}",
        "zh": "{rep}在{store}的签到被标记：{reasons}",  # noqa: RUF001
    },
    "missed": {
        "en": "{rep} missed {count} planned visit(s) on {day}: {stores}",
        "zh": "{rep}在{day}错过了{count}次计划拜访：{stores}",  # noqa: RUF001
    },
}


@dataclass(frozen=True)
class Judged:
    visit_id: uuid.UUID
    rep_id: uuid.UUID
    store_id: uuid.UUID
    received_at: dt.datetime | None  # when the server first saw the check-in (its own clock)
    flags: list[dict[str, str]]


def flagged_alert_id(visit_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"flagged/{visit_id}")


def missed_alert_id(rep_id: uuid.UUID, day: dt.date) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"missed/{rep_id}/{day.isoformat()}")


async def _store_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {r["id"]: r["name"] for r in await Store.select(Store.id, Store.name).where(Store.id.is_in(list(ids))).run()}


async def alert_flagged(org_id: uuid.UUID, judged: list[Judged]) -> None:
    """An alert for the rep's supervisor for each recent visit with flags; withdrawn when the flags clear."""
    recent = [v for v in judged if v.received_at is not None and v.received_at > utcnow() - STALE_AFTER]
    if not recent:
        return
    bosses = await supervisors(org_id, {v.rep_id for v in recent})
    flagged = [v for v in recent if v.flags and v.rep_id in bosses]
    language = await languages(org_id, {bosses[v.rep_id][0] for v in flagged})
    stores = await _store_names({v.store_id for v in flagged})
    wanted = []
    for visit in flagged:
        boss, rep = bosses[visit.rep_id]
        text = TEXTS["flagged"][language[boss]].format(
            rep=rep, store=stores.get(visit.store_id, "?"), reasons="; ".join(f["message"] for f in visit.flags)
        )
        wanted.append(
            Notice(
                flagged_alert_id(visit.visit_id),
                "alert",
                boss,
                text,
                utcnow(),
                store_id=visit.store_id,
                visit_id=visit.visit_id,
            )
        )
    await reconcile(org_id, wanted, [flagged_alert_id(v.visit_id) for v in recent])


async def alert_missed(org_id: uuid.UUID, missed: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, dt.date]]) -> None:
    """One alert per rep and day for the planned visits (visit, rep, store, day) just marked missed."""
    by_rep_day: dict[tuple[uuid.UUID, dt.date], list[uuid.UUID]] = defaultdict(list)
    for _, rep, store, day in missed:
        by_rep_day[(rep, day)].append(store)
    bosses = await supervisors(org_id, {rep for rep, _ in by_rep_day})
    language = await languages(org_id, {boss for boss, _ in bosses.values()})
    stores = await _store_names({store for _, _, store, _ in missed})
    wanted = []
    for (rep, day), store_ids in by_rep_day.items():
        if rep not in bosses:
            continue
        boss, name = bosses[rep]
        text = TEXTS["missed"][language[boss]].format(
            rep=name, count=len(store_ids), day=day.isoformat(), stores=", ".join(stores.get(s, "?") for s in store_ids)
        )
        wanted.append(Notice(missed_alert_id(rep, day), "alert", boss, text, utcnow()))
    # An alert made earlier for the same day stays as it is (a second run that day finds nothing new to miss).
    await reconcile(org_id, wanted, [])
