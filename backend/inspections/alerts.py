"""Out-of-stock follow-ups: a must-stock product found out of stock reminds the rep at their next visit of the
store and alerts their supervisor (delivered by the push worker, shown in the in-app inbox).

Each reminder and alert has an id derived from the inspection and the product (backend/inspections/ids.py), so
however often the item is pushed there is at most one of each. When the product is marked present again before
the reminder was sent, it is withdrawn; marked out of stock again, the same row comes back. A reminder the user
dismissed stays dismissed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from backend.catalog.tables import Product
from backend.inspections import ids, scores
from backend.inspections.rules import InspectionRules
from backend.orgs.tables import Organization, User
from backend.planning.rules import planning_rules, seconds_of
from backend.stores.schemas import WEEKDAYS
from backend.stores.tables import Territory
from backend.tables_base import utcnow
from backend.visits.notices import Notice, languages
from backend.visits.notices import reconcile as reconcile_notices
from backend.visits.tables import Visit

# An inspection that reached the server longer ago than this raises no new reminders or alerts (history).
STALE_AFTER = dt.timedelta(days=3)

TEXTS = {
    "reminder": {
        "en": "Out of stock last visit: {product} ({code}). Check the shelf and take a reorder.",
        "zh": "上次拜访缺货：{product}（{code}）。请检查货架并补单。",  # noqa: RUF001
    },
    "alert": {
        "en": "{rep} found {product} ({code}) out of stock at {store}.",
        "zh": "{rep}在{store}发现{product}（{code}）缺货。",  # noqa: RUF001
    },
}


@dataclass(frozen=True)
class Wanted:
    id: uuid.UUID
    kind: str
    user_id: uuid.UUID
    store_id: uuid.UUID
    visit_id: uuid.UUID | None
    product_id: uuid.UUID
    due_at: dt.datetime
    rep_id: uuid.UUID


async def reconcile(
    org_id: uuid.UUID,
    settings: InspectionRules,
    inspections: dict[uuid.UUID, dict[str, Any]],
    stores: dict[uuid.UUID, dict[str, Any]],
    items: dict[uuid.UUID, list[dict[str, Any]]],
    results: dict[uuid.UUID, scores.Result],
    touched: dict[uuid.UUID, set[uuid.UUID]],
) -> None:
    """Make the reminders and alerts of these inspections match what their items show now. Inspections that
    reached the server more than STALE_AFTER ago are left alone: a late correction raises no new follow-ups (the
    reports still show the shortage). Arrival is the server's time, so a phone cannot backdate its way out."""
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    candidates: set[uuid.UUID] = set()
    oldest = utcnow() - STALE_AFTER
    for inspection_id, result in results.items():
        if inspections[inspection_id]["created_at"] < oldest:
            continue
        absent = {i["product_id"] for i in items[inspection_id] if not i["present"]}
        out[inspection_id] = sorted(p for p in absent if result.items[str(p)].must_stock)
        for product in {i["product_id"] for i in items[inspection_id]} | touched.get(inspection_id, set()):
            candidates |= {
                ids.out_of_stock_reminder_id(inspection_id, product),
                ids.out_of_stock_alert_id(inspection_id, product),
            }
    wanted = await _wanted(org_id, settings, inspections, stores, out)
    texts = await _texts(org_id, list(wanted.values()), stores) if wanted else {}
    notices = [
        Notice(w.id, w.kind, w.user_id, texts[w.id], w.due_at, store_id=w.store_id, visit_id=w.visit_id)
        for w in wanted.values()
    ]
    await reconcile_notices(org_id, notices, candidates)


async def withdraw(org_id: uuid.UUID, products: dict[uuid.UUID, set[uuid.UUID]]) -> None:
    """The follow-ups of deleted inspections (and these of their products) that were not sent yet are withdrawn."""
    candidates = {
        derive(inspection, product)
        for inspection, known in products.items()
        for product in known
        for derive in (ids.out_of_stock_reminder_id, ids.out_of_stock_alert_id)
    }
    await reconcile_notices(org_id, [], candidates)


async def _wanted(
    org_id: uuid.UUID,
    settings: InspectionRules,
    inspections: dict[uuid.UUID, dict[str, Any]],
    stores: dict[uuid.UUID, dict[str, Any]],
    out: dict[uuid.UUID, list[uuid.UUID]],
) -> dict[uuid.UUID, Wanted]:
    found = {i: products for i, products in out.items() if products}
    if not found:
        return {}
    zone = await _zone(org_id)
    reps = {inspections[i]["rep_id"] for i in found}
    supervisors = await _supervisors(org_id, reps)
    territory_supervisors = await _territory_supervisors(
        {stores[inspections[i]["store_id"]]["territory_id"] for i in found} - {None}
    )
    next_visits = await _next_visits(org_id, [inspections[i] for i in found], zone)
    fallback = await _next_working_morning(org_id, zone)
    wanted: dict[uuid.UUID, Wanted] = {}
    now = utcnow()
    for inspection_id, products in found.items():
        inspection = inspections[inspection_id]
        rep, store = inspection["rep_id"], inspection["store_id"]
        visit = next_visits.get(inspection_id)
        day = _local_day(inspection, zone)
        reminder_due = visit[1] if visit else fallback(day)
        boss = supervisors.get(rep) or territory_supervisors.get(stores[store]["territory_id"])
        for product in products:
            if settings.remind_rep:
                key = ids.out_of_stock_reminder_id(inspection_id, product)
                wanted[key] = Wanted(
                    key, "reminder", rep, store, visit[0] if visit else None, product, reminder_due, rep
                )
            if boss and settings.alert_min_out_of_stock and len(products) >= settings.alert_min_out_of_stock:
                key = ids.out_of_stock_alert_id(inspection_id, product)
                wanted[key] = Wanted(key, "alert", boss, store, inspection["visit_id"], product, now, rep)
    return wanted


def _local_day(inspection: dict[str, Any], zone: ZoneInfo) -> dt.date:
    started = inspection["started_at"] or utcnow()
    return started.astimezone(zone).date()


async def _zone(org_id: uuid.UUID) -> ZoneInfo:
    org = await Organization.select(Organization.time_zone).where(Organization.id == org_id).first().run()
    return ZoneInfo(org["time_zone"] if org else "UTC")


async def _supervisors(org_id: uuid.UUID, reps: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    rows = (
        await User.select(User.id, User.supervisor_id).where((User.org_id == org_id) & User.id.is_in(list(reps))).run()
    )
    return {r["id"]: r["supervisor_id"] for r in rows if r["supervisor_id"]}


async def _territory_supervisors(territories: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    if not territories:
        return {}
    rows = (
        await Territory.select(Territory.id, Territory.supervisor_id).where(Territory.id.is_in(list(territories))).run()
    )
    return {r["id"]: r["supervisor_id"] for r in rows if r["supervisor_id"]}


async def _next_visits(
    org_id: uuid.UUID, inspections: list[dict[str, Any]], zone: ZoneInfo
) -> dict[uuid.UUID, tuple[uuid.UUID, dt.datetime]]:
    """For each inspection, the rep's next planned visit of its store after the inspection's day: (id, when)."""
    first_day = min(_local_day(i, zone) for i in inspections)
    rows = (
        await Visit.select(Visit.id, Visit.rep_id, Visit.store_id, Visit.planned_date, Visit.planned_arrival_at)
        .where(
            (Visit.org_id == org_id)
            & (Visit.state == "planned")
            & Visit.store_id.is_in(list({i["store_id"] for i in inspections}))
            & Visit.rep_id.is_in(list({i["rep_id"] for i in inspections}))
            & (Visit.planned_date > first_day)
        )
        .order_by(Visit.planned_date)
        .run()
    )
    planned: dict[tuple[uuid.UUID, uuid.UUID], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        planned[(row["rep_id"], row["store_id"])].append(row)
    found = {}
    for inspection in inspections:
        day = _local_day(inspection, zone)
        later = [v for v in planned[(inspection["rep_id"], inspection["store_id"])] if v["planned_date"] > day]
        if later:
            visit = later[0]
            when = visit["planned_arrival_at"] or dt.datetime.combine(visit["planned_date"], dt.time(8), tzinfo=zone)
            found[inspection["id"]] = (visit["id"], when)
    return found


async def _next_working_morning(org_id: uuid.UUID, zone: ZoneInfo) -> Callable[[dt.date], dt.datetime]:
    """day -> the start of the next working day after it (the organisation's working weekdays and holidays)."""
    rules = await planning_rules(org_id)
    start = seconds_of(rules.day_start)

    def after(day: dt.date) -> dt.datetime:
        candidate = day + dt.timedelta(days=1)
        for _ in range(400):
            if WEEKDAYS[candidate.weekday()] in rules.working_weekdays and candidate not in rules.holidays:
                break
            candidate += dt.timedelta(days=1)
        midnight = dt.datetime.combine(candidate, dt.time(), tzinfo=zone)
        return (midnight + dt.timedelta(seconds=start)).astimezone(dt.UTC)

    return after


async def _texts(
    org_id: uuid.UUID, wanted: list[Wanted], stores: dict[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, str]:
    """Each reminder's text in its recipient's language."""
    products = {
        r["id"]: r
        for r in await Product.select(Product.id, Product.name, Product.code)
        .where(Product.id.is_in(list({w.product_id for w in wanted})))
        .run()
    }
    names = {
        r["id"]: r["name"]
        for r in await User.select(User.id, User.name)
        .where((User.org_id == org_id) & User.id.is_in(list({w.rep_id for w in wanted})))
        .run()
    }
    language = await languages(org_id, {w.user_id for w in wanted})
    texts = {}
    for w in wanted:
        product = products.get(w.product_id, {"name": "?", "code": "?"})
        texts[w.id] = TEXTS[w.kind][language[w.user_id]].format(
            product=product["name"], code=product["code"], store=stores[w.store_id]["name"], rep=names.get(w.rep_id, "")
        )
    return texts
