"""Delivery by real worker processes: two at once deliver each message once; one killed mid-batch loses none and
sends none twice that the push service had accepted."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator

import pytest_asyncio

from backend.orgs.tables import User
from backend.push.tables import PushDelivery, PushSubscription
from backend.push.vapid import application_server_key
from backend.settings import Settings
from backend.tables_base import new_ids, utcnow
from backend.visits.tables import Reminder
from tests.fake_push import FakePushService, Subscription


@pytest_asyncio.fixture(scope="module")
async def service(settings: Settings) -> AsyncIterator[FakePushService]:
    async with FakePushService(vapid_public_key=application_server_key(settings)) as fake:
        yield fake


def worker_env(settings: Settings, service: FakePushService, concurrency: int) -> dict[str, str]:
    return {
        **os.environ,
        "FIELDBOOK_DATABASE_URL": settings.database_url,
        "FIELDBOOK_DATA_DIR": settings.data_dir,
        "FIELDBOOK_SECRET_KEY": settings.secret_key,
        "FIELDBOOK_PUSH_EXTRA_HOSTS": service.origin.removeprefix("https://"),
        "FIELDBOOK_PUSH_ALLOW_PRIVATE": "true",
        "FIELDBOOK_PUSH_CA_FILE": service.ca_file,
        "FIELDBOOK_PUSH_CONCURRENCY": str(concurrency),
        "FIELDBOOK_LOG_LEVEL": "warning",
    }


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "worker", "--once", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def devices(tenant, who: list[str], service: FakePushService) -> list[Subscription]:
    subs = []
    await (
        User.update({User.quiet_start: None, User.quiet_end: None})
        .where(User.id.is_in([tenant.users[w] for w in who]))
        .run()
    )
    for name in who:
        sub = service.subscribe()
        subs.append(sub)
        await PushSubscription.insert(
            PushSubscription(
                org_id=tenant.org_id,
                user_id=tenant.users[name],
                endpoint=sub.endpoint,
                p256dh=sub.p256dh,
                auth=sub.auth,
            )
        ).run()
    return subs


async def due_reminders(tenant, who: list[str], count: int) -> set[str]:
    ids = new_ids(count)
    due = utcnow() - dt.timedelta(minutes=5)
    rows = [
        Reminder(id=i, org_id=tenant.org_id, user_id=tenant.users[who[n % len(who)]], text=f"Follow-up {n}", due_at=due)
        for n, i in enumerate(ids)
    ]
    for start in range(0, len(rows), 200):
        await Reminder.insert(*rows[start : start + 200]).run()
    return {str(i) for i in ids}


def delivered_pairs(service: FakePushService, subs: list[Subscription]) -> Counter[tuple[str, str]]:
    endpoints = {s.endpoint for s in subs}
    return Counter((r.endpoint, json.loads(r.payload)["id"]) for r in service.delivered() if r.endpoint in endpoints)


async def test_two_worker_processes_deliver_a_thousand_reminders_once_each(world, settings, service):
    who = ["rep", "rep2", "rep3", "supervisor"]
    subs = await devices(world.own, who, service)
    ids = await due_reminders(world.own, who, 1000)
    env = worker_env(settings, service, concurrency=16)
    workers = [await start_worker(env) for _ in range(2)]
    outputs = await asyncio.gather(*(w.communicate() for w in workers))
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()[-2000:]
    sent = [json.loads(out.decode().strip().splitlines()[-1])["deliver_push"] for out, _ in outputs]
    pairs = delivered_pairs(service, subs)
    assert len(pairs) == 1000 and set(pairs.values()) == {1}, pairs.most_common(3)
    assert {i for _, i in pairs} == ids
    assert sum(sent) == 1000  # and between them, the two processes sent exactly that many
    statuses = (
        await PushDelivery.select(PushDelivery.status)
        .where(PushDelivery.subscription_id.endpoint.is_in([s.endpoint for s in subs]))
        .run()
    )
    assert Counter(r["status"] for r in statuses) == {"sent": 1000}


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing_accepted(world, settings, service):
    who = ["admin", "supervisor2"]
    subs = await devices(world.other, who, service)
    ids = await due_reminders(world.other, who, 40)
    env = worker_env(settings, service, concurrency=4)
    service.hold()
    worker = await start_worker(env)
    try:
        await service.wait_held(4, timeout=30)
        already = len(service.received)
        service.release()  # four are accepted ...
        await service.wait_received(already + 4, timeout=30)
        service.hold()
        await service.wait_held(4, timeout=30)  # ... and four more are in flight when the worker dies
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    # The service sees the four connections drop (and never answers them).
    await service.wait_received(already + 8, timeout=30)
    assert [r.reason for r in service.received[-4:]] == ["sender.gone"] * 4
    service.release()
    accepted = delivered_pairs(service, subs)
    assert len(accepted) == 4 and set(accepted.values()) == {1}
    # Time passes: the dead worker's leases run out. A new worker picks up the rest.
    await (
        PushDelivery.update({PushDelivery.claimed_until: utcnow() - dt.timedelta(seconds=1)})
        .where(PushDelivery.status == "sending")
        .run()
    )
    restarted = await start_worker(env)
    _, err = await restarted.communicate()
    assert restarted.returncode == 0, err.decode()[-2000:]
    pairs = delivered_pairs(service, subs)
    assert {i for _, i in pairs} == ids and set(pairs.values()) == {1}, pairs.most_common(3)
    assert set(accepted) <= set(pairs)
