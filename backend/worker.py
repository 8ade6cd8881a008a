"""The background worker: periodic jobs over the database, which is the queue (no in-memory state to lose).

Each job is an async function run every `interval` seconds. A job that fails is logged and tried again at its
next turn; it never stops the others. Today's jobs prune expired login-failure records, purge old sync
tombstones, close ended days (planned visits never checked in to become missed) and deliver due reminders and
alerts by Web Push (backend/push/delivery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backend.auth.tables import LoginFailure
from backend.push.delivery import run_push
from backend.settings import Settings
from backend.sync_api import compaction
from backend.tables_base import utcnow
from backend.visits import days

log = logging.getLogger("fieldbook.worker")


@dataclass(frozen=True)
class Job:
    name: str
    interval: float
    run: Callable[[Settings], Awaitable[int]]


async def prune_login_failures(settings: Settings) -> int:
    """Delete login failures older than the rate-limit window; they no longer count. Returns rows deleted."""
    cutoff = utcnow() - dt.timedelta(minutes=settings.login_window_minutes)
    deleted = await LoginFailure.delete().where(LoginFailure.at < cutoff).returning(LoginFailure.id).run()
    return len(deleted)


async def purge_sync_tombstones(settings: Settings) -> int:
    """Forget rows deleted longer ago than the retention window (docs/sync-protocol.md 5.4)."""
    return await compaction.purge_tombstones(dt.timedelta(days=settings.sync_tombstone_days))


async def close_visit_days(settings: Settings) -> int:
    """Planned visits of a day that has ended, never checked in to, become missed."""
    return await days.close_days()


JOBS = [
    Job("deliver_push", 1.0, run_push),
    Job("prune_login_failures", 600.0, prune_login_failures),
    Job("purge_sync_tombstones", 3600.0, purge_sync_tombstones),
    Job("close_visit_days", 300.0, close_visit_days),
]


async def run_once(settings: Settings, jobs: list[Job] = JOBS) -> dict[str, int]:
    """Run every job once; returns how much each one did (failures are logged and count as -1)."""
    done: dict[str, int] = {}
    for job in jobs:
        try:
            done[job.name] = await job.run(settings)
        except Exception:
            log.exception("job %s failed", job.name)
            done[job.name] = -1
    return done


async def run_forever(settings: Settings, stop: asyncio.Event, jobs: list[Job] = JOBS) -> None:
    """Run each job on its interval until `stop` is set."""
    next_run = {job.name: 0.0 for job in jobs}
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        now = loop.time()
        for job in jobs:
            if now >= next_run[job.name]:
                next_run[job.name] = now + job.interval
                await run_once(settings, [job])
        wait = max(0.05, min(next_run.values()) - loop.time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
