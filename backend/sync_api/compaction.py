"""Tombstone retention. Only winning versions are ever stored, so edits need no compaction; deleted rows are kept
for FIELDBOOK_SYNC_TOMBSTONE_DAYS so offline devices learn of the deletion, then purged. The highest sequence
number purged becomes the horizon: an older cursor could have missed the deletion and must refetch."""

from __future__ import annotations

import datetime as dt

from piccolo.query.functions.aggregate import Max

from backend.db import write_transaction
from backend.sync_api.tables import SyncCounter, SyncField
from backend.tables_base import utcnow
from sync.changes import CAUSAL_LENGTH


async def purge_tombstones(retention: dt.timedelta) -> int:
    """Purge rows deleted before now - retention, in every organisation. Returns how many rows were purged."""
    cutoff = utcnow() - retention
    candidates = (
        await SyncField.select(SyncField.org_id, SyncField.tbl, SyncField.row_id, SyncField.value)
        .where((SyncField.col == CAUSAL_LENGTH) & (SyncField.updated_at < cutoff))
        .run()
    )
    purged = 0
    for row in candidates:
        if int(row["value"]) % 2 == 1:
            continue  # alive
        async with write_transaction():
            same_row = (
                (SyncField.org_id == row["org_id"])
                & (SyncField.tbl == row["tbl"])
                & (SyncField.row_id == row["row_id"])
            )
            top = await SyncField.select(Max(SyncField.seq).as_alias("seq")).where(same_row).first().run()
            assert top is not None  # the row's _cl is there: it was just read
            await SyncField.delete().where(same_row).run()
            await SyncCounter.raw(
                "UPDATE sync_counter SET horizon = {} WHERE org_id = {} AND horizon < {}",
                top["seq"],
                row["org_id"],
                top["seq"],
            ).run()
        purged += 1
    return purged
