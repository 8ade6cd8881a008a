"""A store's fence over time. A check-in that arrives days late is judged with the fence the store had when the
rep checked in, not with today's (the store may have moved, or its fence been redrawn since)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.db import json_value
from backend.stores.schemas import Geofence
from backend.stores.tables import Store, StoreFence
from backend.tables_base import utcnow


@dataclass(frozen=True)
class FenceVersion:
    valid_from: dt.datetime
    lat: float
    lng: float
    geofence: Geofence


def _decode(raw: Any) -> Geofence:
    return msgspec.convert(json_value(raw), Geofence)


async def remember(org_id: uuid.UUID, store_ids: Iterable[uuid.UUID]) -> None:
    """Record the current location and fence of these stores where they differ from the last one recorded.

    Called in the same transaction as every write of stores (REST, CSV import, the demo).
    """
    ids = list(set(store_ids))
    if not ids:
        return
    now = utcnow()
    current = (
        await Store.select(Store.id, Store.lat, Store.lng, Store.geofence)
        .where((Store.org_id == org_id) & Store.id.is_in(ids))
        .run()
    )
    latest = await history(org_id, ids)
    fresh = []
    for row in current:
        fence = _decode(row["geofence"])
        known = latest.get(row["id"])
        last = known[-1] if known else None
        if last and (last.lat, last.lng, last.geofence) == (row["lat"], row["lng"], fence):
            continue
        fresh.append(
            StoreFence(
                org_id=org_id,
                store_id=row["id"],
                valid_from=now,
                lat=row["lat"],
                lng=row["lng"],
                geofence=msgspec.json.encode(fence).decode(),
            )
        )
    for start in range(0, len(fresh), 500):
        await StoreFence.insert(*fresh[start : start + 500]).run()


async def history(org_id: uuid.UUID, store_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[FenceVersion]]:
    """Every recorded fence of these stores, oldest first."""
    ids = list(set(store_ids))
    found: dict[uuid.UUID, list[FenceVersion]] = {}
    for start in range(0, len(ids), 500):
        rows = (
            await StoreFence.select(
                StoreFence.store_id, StoreFence.valid_from, StoreFence.lat, StoreFence.lng, StoreFence.geofence
            )
            .where((StoreFence.org_id == org_id) & StoreFence.store_id.is_in(ids[start : start + 500]))
            .order_by(StoreFence.valid_from)
            .run()
        )
        for r in rows:
            found.setdefault(r["store_id"], []).append(
                FenceVersion(r["valid_from"], r["lat"], r["lng"], _decode(r["geofence"]))
            )
    return found


def fence_at(versions: list[FenceVersion], when: dt.datetime | None) -> FenceVersion | None:
    """The fence in force at `when` (the earliest one for a time before any was recorded)."""
    if not versions:
        return None
    if when is None:
        return versions[-1]
    chosen = versions[0]
    for version in versions:
        if version.valid_from <= when:
            chosen = version
    return chosen
