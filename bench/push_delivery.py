"""Web Push delivery: notifications per second sent by the worker's `run_push` to a fake push service, against plain
HTTPS POSTs of the same sizes to the same service.

`--count` due reminders (default 10,000) for `--users` reps (default 100), each rep with one subscription made by
the fake push service (`FakePushService.subscribe()`) and registered with `push.services.subscribe`, quiet hours
off. Timed: `delivery.run_push` called as the worker calls it until every reminder is sent (fan-out into
`push_delivery` rows, claim, encrypt + sign + POST with pywebpush over one aiohttp session, `--concurrency` in
flight, default the setting's, and commit each answer). The fake service runs in a process of its own (so its
VAPID verification and decryption do not share this process's core or event loop); it verifies and decrypts every
message like a real service, and at the end its 201s are counted: each reminder exactly once.

Baseline, same run, same service process: as many plain HTTPS POSTs of the same body sizes (each message's
encrypted size: plaintext + 103 bytes) to `POST /plain` (read the body, answer 201), over one aiohttp session with
the same concurrency: no encryption, no VAPID, no database. Run before and after the deliveries; the ratio is to
their mean. Between the two, to split the ratio: the same messages sent once more by `PushSender` alone
(encrypted, signed, same headers and concurrency, no database). Where the deliveries' time goes: run_push's steps
(`fan_out`, `claim`, `deliver`) and each send's and each answer's commit (`record`) are timed by wrapping them
where run_push looks them up (nothing else changes), plus the CPU time of this process and of the service.

    .venv/bin/python -m bench.push_delivery                 # 10,000 notifications (SQLite ~2.5 min, PostgreSQL ~1)
    .venv/bin/python -m bench.push_delivery --small         # 500, seconds
    .venv/bin/python -m bench.push_delivery --database-url postgresql://user@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.push_delivery --profile /tmp/push.prof   # cProfile of the deliveries (this process)
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import datetime as dt
import itertools
import json
import multiprocessing
import os
import random
import ssl
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from multiprocessing.connection import Connection
from typing import Any, TypeVar
from unittest import mock

import aiohttp
import msgspec

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.demo.seed import insert_in_batches
from backend.orgs.tables import User
from backend.push import delivery, payload, services
from backend.push.schemas import SubscriptionCreate, SubscriptionKeys
from backend.push.sender import PushSender
from backend.push.tables import PushDelivery
from backend.push.vapid import application_server_key
from backend.settings import Settings
from backend.tables_base import new_ids, utcnow
from backend.visits.tables import Reminder
from bench import _harness as h

ENCRYPTION_OVERHEAD = 103  # RFC 8291 aes128gcm, one record: 86-byte header (65-byte key id) + 16 tag + 1 delimiter
SERVICE_TIMEOUT_S = 120.0
TEXTS = (
    "Call the store manager back about the tea order",
    "Two facings missing on the tea shelf: check the restock",
    "Ask for a price tag reprint on the cooler",
    "Follow up on the competitor promo at the till",
)
T = TypeVar("T")


# --- the fake push service, in a process of its own -------------------------------------------------------------


def serve_fake(conn: Connection, subscriptions: int, vapid_public_key: str) -> None:
    """The child process: a FakePushService restricted to the server's VAPID key, `subscriptions` subscriptions
    sent to the parent, then answering "tally" (what it received, its CPU time) until "stop"."""
    asyncio.run(_serve(conn, subscriptions, vapid_public_key))


async def _serve(conn: Connection, subscriptions: int, vapid_public_key: str) -> None:
    from tests.fake_push import FakePushService

    async with FakePushService(vapid_public_key=vapid_public_key) as service:
        subs = [service.subscribe() for _ in range(subscriptions)]
        conn.send({"origin": service.origin, "ca_file": service.ca_file, "subscriptions": [s.info() for s in subs]})
        while await asyncio.to_thread(conn.recv) == "tally":
            delivered = service.delivered()
            conn.send(
                {
                    "answers": Counter((r.status, r.reason) for r in service.received),
                    "ids": [json.loads(r.payload)["id"] for r in delivered],
                    "body_bytes": sum(r.body_size for r in delivered),
                    "plain_requests": service.plain_requests,
                    "plain_bytes": service.plain_bytes,
                    "cpu_s": time.process_time(),
                }
            )


async def ask(conn: Connection, message: str | None = None) -> Any:
    if message is not None:
        conn.send(message)
    if not await asyncio.to_thread(conn.poll, SERVICE_TIMEOUT_S):
        raise SystemExit(f"the fake push service did not answer within {SERVICE_TIMEOUT_S:.0f} s")
    return conn.recv()


# --- setup ----------------------------------------------------------------------------------------------------


async def setup(settings: Settings, org: h.Org, infos: list[dict[str, Any]], count: int) -> list[bytes]:
    """Quiet hours off, one subscription per rep, `count` due reminders (round robin over the reps); returns each
    reminder's push message as `deliver` will build it."""
    await User.update({User.quiet_start: None, User.quiet_end: None}).where(User.org_id == org.org_id).run()
    for rep, info in zip(org.reps, infos, strict=True):
        who = Principal(rep.user_id, org.org_id, "rep", "")
        keys = SubscriptionKeys(p256dh=info["keys"]["p256dh"], auth=info["keys"]["auth"])
        await services.subscribe(who, SubscriptionCreate(endpoint=info["endpoint"], keys=keys), settings)
    due = utcnow() - dt.timedelta(minutes=5)
    rows = []
    for n, reminder_id in enumerate(new_ids(count)):
        rep = org.reps[n % len(org.reps)]
        text = f"{TEXTS[n % len(TEXTS)]} (#{n})"
        store = rep.stores[0].id
        rows.append(
            Reminder(id=reminder_id, org_id=org.org_id, user_id=rep.user_id, store_id=store, text=text, due_at=due)
        )
    async with write_transaction():
        await insert_in_batches(Reminder, rows)
    return [
        payload.message(
            reminder_id=r.id, kind="reminder", text=r.text, due_at=due, urgent=False, store_id=r.store_id, locale="en"
        )
        for r in rows
    ]


# --- the baseline ---------------------------------------------------------------------------------------------


async def plain_posts(origin: str, ca_file: str, sizes: list[int], concurrency: int) -> float:
    """Seconds to POST a body of each size to origin/plain, `concurrency` at a time over one session."""
    bodies = [os.urandom(size) for size in sizes]
    context = ssl.create_default_context(cafile=ca_file)
    connector = aiohttp.TCPConnector(ssl=context, limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=h.REQUEST_TIMEOUT_S)
    headers = {"Content-Type": "application/octet-stream"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        gate = asyncio.Semaphore(concurrency)

        async def one(body: bytes) -> int:
            async with gate, session.post(f"{origin}/plain", data=body, headers=headers) as response:
                await response.read()
                return response.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(b) for b in bodies))
        seconds = time.perf_counter() - started
    if set(statuses) != {201}:
        raise SystemExit(f"POST /plain answered {Counter(statuses)}")
    return seconds


async def sender_alone(settings: Settings, infos: list[dict[str, Any]], messages: list[bytes]) -> float:
    """Seconds to send every message with PushSender (encrypted, signed, same headers) to its reminder's device,
    `push_concurrency` in flight: the deliveries without the database."""
    gate = asyncio.Semaphore(settings.push_concurrency)
    async with PushSender(settings) as sender:

        async def one(n: int, message: bytes) -> int:
            info = infos[n % len(infos)]
            reminder = uuid.UUID(json.loads(message)["id"])
            async with gate:
                outcome = await sender.send(
                    info["endpoint"],
                    info["keys"]["p256dh"],
                    info["keys"]["auth"],
                    message,
                    ttl=settings.push_ttl_s,
                    urgency="normal",
                    topic=payload.topic(reminder),
                )
            return outcome.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(n, m) for n, m in enumerate(messages)))
        seconds = time.perf_counter() - started
    if set(statuses) != {201}:
        raise SystemExit(f"PushSender alone got {Counter(statuses)}")
    return seconds


# --- the deliveries, timed by phase ---------------------------------------------------------------------------


class Phases:
    """Wall time spent in each of run_push's steps, and each send's and each answer's commit latency."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.latency: dict[str, list[float]] = {"send": [], "record": []}

    def timed(self, name: str, function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def wrapper(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds[name] += elapsed
                self.calls[name] += 1
                if name in self.latency:
                    self.latency[name].append(elapsed)

        return wrapper

    def patches(self) -> ExitStack:
        """Wrap delivery's steps where run_push and deliver look them up (module globals, the sender's method)."""
        stack = ExitStack()
        for name in ("fan_out", "claim", "deliver", "record"):
            stack.enter_context(mock.patch.object(delivery, name, self.timed(name, getattr(delivery, name))))
        stack.enter_context(mock.patch.object(PushSender, "send", self.timed("send", PushSender.send)))
        return stack


async def deliver_all(settings: Settings, count: int, phases: Phases, profile: str) -> tuple[float, int, int]:
    """(seconds, sent, run_push calls): run_push again and again, as the worker does, until `count` are sent."""
    profiler = cProfile.Profile() if profile else None
    sent = calls = 0
    with phases.patches():
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        while sent < count:
            done = await delivery.run_push(settings)
            calls += 1
            sent += done
            if not done:
                break
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
    return seconds, sent, calls


# --- the run --------------------------------------------------------------------------------------------------


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    for action in p._actions:
        if action.dest == "profile":
            action.help = "run the deliveries under cProfile (in this process) and write the stats to PATH"
    p.add_argument("--count", type=int, default=0, help="notifications (default 10,000; 500 with --small)")
    p.add_argument("--users", type=int, default=100, help="reps, one subscription each (default 100)")
    p.add_argument("--concurrency", type=int, default=0, help="sends in flight (default: push_concurrency's default)")
    p.add_argument("--small", action="store_true", help="a quick check: 500 notifications")
    args = p.parse_args()
    count = args.count or (500 if args.small else 10_000)
    rng = random.Random(args.seed)

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        concurrency = args.concurrency or settings.push_concurrency
        print(f"push_delivery: {h.describe_machine(url)}; the fake push service runs in a process of its own")
        parent, child = multiprocessing.get_context("spawn").Pipe()
        service = multiprocessing.get_context("spawn").Process(
            target=serve_fake, args=(child, args.users, application_server_key(settings)), daemon=True
        )
        service.start()
        try:
            hello = await ask(parent)
            settings = msgspec.structs.replace(
                settings,
                push_extra_hosts=[hello["origin"].removeprefix("https://")],
                push_allow_private=True,
                push_ca_file=hello["ca_file"],
                push_concurrency=concurrency,
            )
            async with h.connected(settings):
                started = time.perf_counter()
                org = await h.build_org(
                    settings, name="Push Foods", reps=args.users, stores_per_rep=1, products=1, rng=rng
                )
                messages = await setup(settings, org, hello["subscriptions"], count)
                sizes = [len(m) + ENCRYPTION_OVERHEAD for m in messages]
                print(
                    f"  setup: {args.users} reps with one subscription each, {count:,} due reminders, messages of "
                    f"{min(sizes) - ENCRYPTION_OVERHEAD}-{max(sizes) - ENCRYPTION_OVERHEAD} bytes "
                    f"({statistics.mean(sizes):.0f} encrypted) ({time.perf_counter() - started:.1f} s)"
                )

                # Each phase: (seconds, this process's CPU seconds, the service's CPU seconds).
                tallies = [await ask(parent, "tally")]
                cpu = [time.process_time()]

                def lap() -> None:
                    cpu.append(time.process_time())

                plain_s = [await plain_posts(hello["origin"], hello["ca_file"], sizes, concurrency)]
                lap()
                tallies.append(await ask(parent, "tally"))
                phases = Phases()
                push_s, sent, calls = await deliver_all(settings, count, phases, args.profile)
                lap()
                tallies.append(await ask(parent, "tally"))
                alone_s = await sender_alone(settings, hello["subscriptions"], messages)
                lap()
                tallies.append(await ask(parent, "tally"))
                plain_s.append(await plain_posts(hello["origin"], hello["ca_file"], sizes, concurrency))
                lap()
                tallies.append(await ask(parent, "tally"))
                statuses = Counter(r["status"] for r in await PushDelivery.select(PushDelivery.status).run())
                pending = await Reminder.count().where(Reminder.status == "pending").run()
        finally:
            with contextlib.suppress(OSError):
                parent.send("stop")
            service.join(10)
            if service.is_alive():
                service.terminate()

    check(count, messages, sizes, sent, tallies, statuses, pending)
    own = [b - a for a, b in itertools.pairwise(cpu)]
    served = [b["cpu_s"] - a["cpu_s"] for a, b in itertools.pairwise(tallies)]
    push_rate, alone_rate = count / push_s, count / alone_s
    plain_rates = [count / s for s in plain_s]
    plain_rate = statistics.mean(plain_rates)
    s, n = phases.seconds, phases.calls
    rest = push_s - s["fan_out"] - s["claim"] - s["deliver"]
    print(
        f"  push (run_push x {calls}, {concurrency} in flight): {count:,} notifications in {push_s:.2f} s = "
        f"{push_rate:,.0f} deliveries/s; each verified, decrypted and answered 201 once"
    )
    print(
        f"    phases: fan-out {s['fan_out']:.2f} s ({n['fan_out']} calls), claim {s['claim']:.2f} s "
        f"({n['claim']} batches), deliver {s['deliver']:.2f} s; rest {rest:.2f} s"
    )
    for name, values in phases.latency.items():
        if not values:
            continue
        print(
            f"    per message, {name}: mean {h.ms(statistics.mean(values))}, p50 {h.ms(h.percentile(values, 50))}, "
            f"p99 {h.ms(h.percentile(values, 99))}"
        )
    print(f"    CPU: {cpu_split(own[1], served[1], push_s)}")
    print(
        f"  the same messages sent by PushSender alone (no database, {concurrency} in flight): {alone_s:.2f} s = "
        f"{alone_rate:,.0f}/s; CPU: {cpu_split(own[2], served[2], alone_s)}"
    )
    print(
        f"  baseline (POST /plain, same sizes, same service process, one aiohttp session, {concurrency} in flight): "
        f"{' and '.join(f'{r:,.0f}' for r in plain_rates)} requests/s (before and after); CPU of the first: "
        f"{cpu_split(own[0], served[0], plain_s[0])}"
    )
    print(
        f"  ratio push/plain: {push_rate / plain_rate:.3f}  (PushSender alone/plain {alone_rate / plain_rate:.3f}, "
        f"push/PushSender alone {push_rate / alone_rate:.3f})"
    )


def cpu_split(own: float, service: float, seconds: float) -> str:
    return f"this process {own:.2f} s ({own / seconds:.0%} of the wall time), the service {service:.2f} s " + (
        f"({service / seconds:.0%})"
    )


def check(
    count: int,
    messages: list[bytes],
    sizes: list[int],
    sent: int,
    tallies: list[dict[str, Any]],
    statuses: Counter[str],
    pending: int,
) -> None:
    """Every reminder reached the service exactly once by run_push and once by PushSender alone, verified and
    decrypted, at the sizes computed; nothing was refused; every delivery row is sent."""
    expected = {json.loads(m)["id"] for m in messages}
    ready, pushed, alone, end = tallies[1], tallies[2], tallies[3], tallies[4]
    problems = []
    for name, ids, body_bytes in (
        ("run_push", pushed["ids"], pushed["body_bytes"]),
        ("PushSender alone", alone["ids"][count:], alone["body_bytes"] - pushed["body_bytes"]),
    ):
        seen = Counter(ids)
        if len(ids) != count or set(seen) != expected or max(seen.values(), default=0) != 1:
            problems.append(f"{name}: {len(ids)} 201s, {len(seen)} distinct of {count}")
        if body_bytes != sum(sizes):
            problems.append(f"{name}: {body_bytes} bytes of bodies, {sum(sizes)} expected")
    if sent != count:
        problems.append(f"run_push sent {sent}")
    if set(end["answers"]) != {(201, "")}:
        problems.append(f"the service answered {dict(end['answers'])}")
    if ready["plain_requests"] != count or end["plain_bytes"] != 2 * sum(sizes):
        problems.append(f"POST /plain: {end['plain_requests']} requests, {end['plain_bytes']} bytes")
    if statuses != {"sent": count} or pending:
        problems.append(f"push_delivery {dict(statuses)}, reminders pending {pending}")
    if problems:
        raise SystemExit("push_delivery: " + "; ".join(problems))


if __name__ == "__main__":
    asyncio.run(main())
