"""The running checksums in sync_bucket stay equal to a scan of sync_field through every kind of write."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from backend.db import current_engine, is_sqlite
from backend.migrations.fieldbook_2026_11_23t11_52_30_000000 import PG_NIL, SQLITE_NIL, _backfill
from backend.sync_api.compaction import purge_tombstones
from backend.sync_api.tables import SyncBucket, SyncField
from backend.tables_base import utcnow
from tests.backend.sync_api.test_sync_endpoint import visit_fields
from tests.sync_device import Device

NIL = "00000000-0000-0000-0000-000000000000"


async def scanned() -> Counter:
    """What the buckets must hold: the sum of the fingerprints of live fields, per scope key."""
    totals: Counter = Counter()
    live = SyncField.alive == True  # noqa: E712
    keys = (SyncField.org_id, SyncField.org_wide, SyncField.owner_id, SyncField.territory_id, SyncField.fp)
    for r in await SyncField.select(*keys).where(live).run():
        key = (str(r["org_id"]), bool(r["org_wide"]), str(r["owner_id"] or NIL), str(r["territory_id"] or NIL))
        totals[key] += int(r["fp"])
    return totals


async def buckets() -> Counter:
    rows = await SyncBucket.select().run()
    totals = Counter(
        {
            (str(r["org_id"]), bool(r["org_wide"]), str(r["owner_id"]), str(r["territory_id"])): int(r["total"])
            for r in rows
        }
    )
    return +totals  # buckets emptied by deletes stay as rows with 0


async def assert_buckets_match(step: str) -> None:
    assert await buckets() == await scanned(), f"buckets drifted after {step}"


async def test_buckets_follow_pushes_deletes_restores_rescopes_and_purges(world, client):
    t = world.own
    await assert_buckets_match("seeding (REST creates)")
    phone = Device(client, t.tokens["rep"])
    await phone.sync()
    visit = phone.create("visit", **visit_fields(t.ids["store"]))
    await phone.sync()
    await assert_buckets_match("a new visit")
    phone.edit("visit", visit, notes="Restocked", state="checked_out")
    await phone.sync()
    await assert_buckets_match("an edit")
    phone.delete("visit", visit)
    await phone.sync()
    await assert_buckets_match("a delete (every field turns dead)")
    phone.edit("visit", visit, _cl=3)
    await phone.sync()
    await assert_buckets_match("a restore")
    admin = t.auth("admin")
    moved = await client.patch(
        f"/api/v1/stores/{t.ids['store']}", json={"assigned_rep_id": str(t.users["rep2"])}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    await assert_buckets_match("a store reassigned to another rep (rescope)")
    renamed = await client.patch(f"/api/v1/products/{t.ids['product']}", json={"name": "Jasmine tea 1L"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    await assert_buckets_match("a product edit")
    phone.delete("visit", visit)
    await phone.sync()
    await (
        SyncField.update({SyncField.updated_at: utcnow() - dt.timedelta(days=400)})
        .where(SyncField.row_id == visit)
        .run()
    )
    assert await purge_tombstones(dt.timedelta(days=90)) == 1
    await assert_buckets_match("purging a tombstone")
    assert await buckets(), "the scope keys of the world's rows are all in buckets"


async def test_the_migration_backfills_buckets_from_existing_fields(world, client):
    expected = await scanned()
    await SyncBucket.delete(force=True).run()
    engine = current_engine()
    await engine.run_ddl(_backfill(SQLITE_NIL if is_sqlite(engine) else PG_NIL))
    assert await buckets() == expected
