"""Delivering due reminders and alerts to every device of their user, exactly once per device (docs/push.md).

The database is the queue. Two steps, each claiming rows atomically so any number of worker processes can run
on PostgreSQL (`FOR UPDATE SKIP LOCKED`; SQLite has one writer at a time and one worker process):

1. Fan-out: a pending reminder that is due becomes one `push_delivery` row per subscription of its user (unique
   per reminder, device and due time) and is marked sent (it shows in the in-app inbox either way). A non-urgent
   one due in the user's quiet hours is held until they end.
2. Delivery: claimed deliveries are marked `sending` with a lease and committed before anything is sent; the
   answers are committed as they arrive (those that arrive during one commit together in the next), and a send
   starts only after an earlier answer was committed. A worker killed mid-batch leaves leases that expire, and those
   deliveries are sent again; one whose 201 was recorded never is. (The window between a push service's 201 and
   its commit is one database write; the service worker also shows one notification per `tag`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from typing import Any

from backend import db
from backend.db import write_transaction
from backend.orgs.tables import Organization, User
from backend.push import payload
from backend.push.quiet import quiet_until
from backend.push.sender import Outcome, PushSender
from backend.push.tables import PushDelivery, PushSubscription
from backend.settings import Settings
from backend.sync_api.record import record_rows
from backend.tables_base import new_ids, utcnow

log = logging.getLogger("fieldbook.push")

FAN_OUT_BATCH = 500
FIRST_RETRY = dt.timedelta(seconds=30)
LAST_RETRY = dt.timedelta(hours=1)
DONE = frozenset({200, 201, 202})
GONE = frozenset({404, 410})


def _lock() -> str:
    return "" if db.is_sqlite(db.current_engine()) else " FOR UPDATE SKIP LOCKED"


async def fan_out(now: dt.datetime, limit: int = FAN_OUT_BATCH) -> int:
    """Turn due reminders into deliveries (or hold them for quiet hours). Returns how many were taken."""
    async with write_transaction():
        due = await db.fetch(
            "SELECT id, org_id, user_id, due_at, urgent FROM reminder WHERE status = 'pending' AND due_at <= {} "
            "AND (deliver_after IS NULL OR deliver_after <= {}) ORDER BY due_at LIMIT {}" + _lock(),
            now,
            now,
            limit,
        )
        if not due:
            return 0
        users = await _users({r["user_id"] for r in due})
        held: list[tuple[Any, dict[str, Any]]] = []
        ready = []
        for row in due:
            user = users.get(row["user_id"], {})
            until = None if row["urgent"] else quiet_until(now, user["zone"], user["quiet_start"], user["quiet_end"])
            if until is not None and until > now:
                held.append((row["id"], {"deliver_after": until}))
            else:
                ready.append(row)
        await db.update_rows("reminder", held)
        subscriptions: dict[Any, list[Any]] = defaultdict(list)
        if ready:
            for s in (
                await PushSubscription.select(PushSubscription.id, PushSubscription.user_id)
                .where(
                    PushSubscription.user_id.is_in(list({r["user_id"] for r in ready}))
                    & (PushSubscription.expires_at.is_null() | (PushSubscription.expires_at > now))
                )
                .run()
            ):
                subscriptions[s["user_id"]].append(s["id"])
        deliveries = [
            (row["org_id"], row["id"], subscription, row["due_at"])
            for row in ready
            for subscription in subscriptions[row["user_id"]]
        ]
        ids = new_ids(len(deliveries))
        await db.insert_rows(
            "INSERT INTO push_delivery (id, org_id, reminder_id, subscription_id, due_at, status, attempts, "
            "next_attempt_at, created_at)",
            [(i, *d, "pending", 0, now, now) for i, d in zip(ids, deliveries, strict=True)],
            tail="ON CONFLICT (reminder_id, subscription_id, due_at) DO NOTHING",
        )
        await db.update_rows("reminder", [(r["id"], {"status": "sent", "sent_at": now}) for r in ready])
        by_org: dict[Any, list[tuple[uuid.UUID, dict[str, Any]]]] = defaultdict(list)
        for row in ready:
            by_org[row["org_id"]].append((uuid.UUID(str(row["id"])), {"status": "sent"}))
        for org_id, rows in by_org.items():  # the phones learn it was sent
            await record_rows(uuid.UUID(str(org_id)), "reminder", rows)
    return len(due)


async def _users(ids: set[Any]) -> dict[Any, dict[str, Any]]:
    rows = (
        await User.select(User.id, User.org_id, User.time_zone, User.quiet_start, User.quiet_end, User.locale)
        .where(User.id.is_in(list(ids)))
        .run()
    )
    zones = {
        o["id"]: (o["time_zone"], o["locale"])
        for o in await Organization.select(Organization.id, Organization.time_zone, Organization.locale)
        .where(Organization.id.is_in(list({r["org_id"] for r in rows})))
        .run()
    }
    return {
        r["id"]: {
            **r,
            "zone": r["time_zone"] or zones.get(r["org_id"], ("UTC", "en"))[0],
            "locale": r["locale"] or zones.get(r["org_id"], ("UTC", "en"))[1],
        }
        for r in rows
    }


async def claim(now: dt.datetime, lease: dt.timedelta, limit: int) -> list[Any]:
    """Claim deliveries to send: pending ones that are due, and those whose sender's lease ran out."""
    async with write_transaction():
        rows = await db.fetch(
            "SELECT id FROM push_delivery WHERE (status = 'pending' AND next_attempt_at <= {}) "
            "OR (status = 'sending' AND claimed_until < {}) ORDER BY next_attempt_at LIMIT {}" + _lock(),
            now,
            now,
            limit,
        )
        ids = [r["id"] for r in rows]
        await db.executemany(
            "UPDATE push_delivery SET status = 'sending', claimed_until = {}, attempts = attempts + 1 WHERE id = {}",
            [(now + lease, i) for i in ids],
        )
    return ids


async def deliver(settings: Settings, sender: PushSender, ids: list[Any]) -> int:
    """Send claimed deliveries concurrently; commit each answer before its slot takes the next send. Returns how
    many a push service accepted."""
    rows = (
        await PushDelivery.select(
            PushDelivery.id,
            PushDelivery.attempts,
            PushDelivery.due_at,
            PushDelivery.subscription_id,
            PushDelivery.reminder_id.as_alias("reminder"),
            PushDelivery.reminder_id.kind.as_alias("kind"),
            PushDelivery.reminder_id.text.as_alias("text"),
            PushDelivery.reminder_id.urgent.as_alias("urgent"),
            PushDelivery.reminder_id.store_id.as_alias("store_id"),
            PushDelivery.reminder_id.user_id.as_alias("user_id"),
            PushDelivery.reminder_id.status.as_alias("reminder_status"),
            PushDelivery.subscription_id.endpoint.as_alias("endpoint"),
            PushDelivery.subscription_id.p256dh.as_alias("p256dh"),
            PushDelivery.subscription_id.auth.as_alias("auth"),
        )
        .where(PushDelivery.id.is_in(ids))
        .run()
    )
    # Dismissed (or withdrawn) since it fanned out, e.g. while a busy push service was being retried: never sent.
    cancelled = [(r["id"], {"status": "cancelled"}) for r in rows if r["reminder_status"] in ("dismissed", "withdrawn")]
    if cancelled:
        async with write_transaction():
            await db.update_rows("push_delivery", cancelled)
        rows = [r for r in rows if r["reminder_status"] not in ("dismissed", "withdrawn")]
    if not rows:
        return 0
    users = await _users({r["user_id"] for r in rows})
    gate = asyncio.Semaphore(settings.push_concurrency)
    committer = Committer(settings)

    async def one(row: dict[str, Any]) -> bool:
        data = payload.message(
            reminder_id=row["reminder"],
            kind=row["kind"],
            text=row["text"],
            due_at=row["due_at"],
            urgent=row["urgent"],
            store_id=row["store_id"],
            locale=users.get(row["user_id"], {}).get("locale", "en"),
        )
        # The slot is held until the answer is committed: a send starts only after an earlier one is recorded,
        # so a worker killed while sends are in flight has recorded every answer it got before them.
        async with gate:
            outcome = await sender.send(
                row["endpoint"],
                row["p256dh"],
                row["auth"],
                data,
                ttl=settings.push_ttl_s,
                urgency="high" if row["urgent"] else "normal",
                topic=payload.topic(row["reminder"]),
            )
            await committer.commit(row, outcome)
        return outcome.status in DONE

    async with committer:
        # Every send runs to its end (and its commit) even when another's commit failed.
        results = await asyncio.gather(*(one(r) for r in rows), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        log.error(
            "%d push answers could not be recorded (sent again when their lease ends): %s", len(failed), failed[0]
        )
    return sum(1 for r in results if r is True)


class Committer:
    """Group commit: the answers that arrive while one transaction commits are committed together in the next.

    One transaction per answer capped delivery at ~100 messages/s on SQLite (one writer, a sync per commit:
    bench/README.md); each sender still waits for its own answer's commit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._waiting: list[tuple[dict[str, Any], Outcome, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Committer:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def commit(self, row: dict[str, Any], outcome: Outcome) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, outcome, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._waiting = self._waiting, []
            if not batch:
                if self._closing:
                    return
                continue
            try:
                await record(self.settings, [(row, outcome) for row, outcome, _ in batch])
            except Exception as exc:
                for *_, future in batch:
                    future.set_exception(exc)
                continue
            for *_, future in batch:
                future.set_result(None)


async def record(settings: Settings, answers: list[tuple[dict[str, Any], Outcome]]) -> None:
    """Commit answers in one transaction: sent; gone (the subscription is deleted); a bug; or retry later."""
    now = utcnow()
    accepted = [(row, outcome) for row, outcome in answers if outcome.status in DONE]
    async with write_transaction():
        await db.update_rows(
            "push_delivery",
            [(row["id"], {"status": "sent", "sent_at": now, "last_status": o.status}) for row, o in accepted],
        )
        await db.update_rows(
            "push_subscription",
            [
                (row["subscription_id"], {"failures": 0, "last_status": o.status, "last_success_at": now})
                for row, o in accepted
            ],
        )
        for row, outcome in answers:
            if outcome.status not in DONE:
                await _refused(settings, row, outcome, now)


async def _refused(settings: Settings, row: dict[str, Any], outcome: Outcome, now: dt.datetime) -> None:
    delivery, subscription = row["id"], row["subscription_id"]
    if outcome.status in GONE:
        log.info("push subscription %s is gone (%s): deleted", subscription, outcome.status)
        await PushSubscription.delete().where(PushSubscription.id == subscription).run()
        return
    retry = not outcome.refused and (outcome.status in (0, 429) or outcome.status >= 500)
    if outcome.status == 413:
        log.error("push message for reminder %s was too large for the push service (a bug)", row["reminder"])
    elif not retry:
        log.warning("push to subscription %s failed for good: %s", subscription, outcome.error)
    attempts = int(row["attempts"])
    if retry and attempts < settings.push_max_attempts:
        wait = min(LAST_RETRY, FIRST_RETRY * 2 ** (attempts - 1))
        if outcome.retry_after is not None:
            wait = max(wait, dt.timedelta(seconds=outcome.retry_after))
        change: dict[str, Any] = {"status": "pending", "next_attempt_at": now + wait, "last_status": outcome.status}
    else:
        change = {"status": "failed", "last_status": outcome.status}
    await db.update_rows("push_delivery", [(delivery, change)])
    await db.executemany(
        "UPDATE push_subscription SET failures = failures + 1, last_status = {}, last_failure_at = {} WHERE id = {}",
        [(outcome.status, now, subscription)],
    )


async def run_push(settings: Settings, budget_s: float = 20.0) -> int:
    """The worker's job: fan out and deliver until nothing is due or the time budget is spent. Returns the
    number of messages a push service accepted."""
    started = time.monotonic()
    # One wave of sends per claim (as many as may be in flight), so each starts at once and ends, answer
    # committed, well within its lease; a lease that ran out would let another worker send it too.
    lease = dt.timedelta(seconds=max(60.0, 4 * settings.push_timeout_s))
    sent = 0
    async with contextlib.AsyncExitStack() as stack:
        sender: PushSender | None = None  # its HTTP session opened only when there is something to send
        while time.monotonic() - started < budget_s:
            taken = await fan_out(utcnow())
            ids = await claim(utcnow(), lease, settings.push_concurrency)
            if ids:
                if sender is None:
                    sender = await stack.enter_async_context(PushSender(settings))
                sent += await deliver(settings, sender, ids)
            if not taken and not ids:
                break
    return sent
