"""Shared setup for the sync benchmarks (bench/README.md).

A throwaway database (a SQLite file in a temporary folder, or a fresh database on the PostgreSQL server given by
`--database-url`) migrated to the current schema; an organisation of reps with assigned stores and a catalogue,
created in bulk and recorded for sync with `record_domain` (as the demo does); bearer tokens signed with the
server's key; a real uvicorn server process on 127.0.0.1; and the changes a rep's phone records in a day.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from msgspec.structs import asdict

import backend  # noqa: F401  (sets PICCOLO_CONF before any table is imported)
from backend import db
from backend.auth.passwords import hash_password_sync
from backend.auth.tokens import TokenIssuer, build_jwt_auth
from backend.catalog.schemas import ProductCreate
from backend.catalog.tables import Product
from backend.demo.seed import insert_in_batches
from backend.orgs.services import create_organization
from backend.orgs.tables import User
from backend.settings import Settings, settings_from_env
from backend.stores.schemas import WEEKDAYS, Interval, StoreCreate
from backend.stores.services import store_values
from backend.stores.tables import Store
from backend.sync_api.record import record_domain
from backend.tables_base import new_id
from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change

SECRET = "bench-secret-key-that-is-long-enough-for-hs256-0123456789"
ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 30.0
# Every benchmark loop is bounded: a request taking longer than this fails the run instead of hanging it.
REQUEST_TIMEOUT_S = 300.0

T = TypeVar("T")


# --- command line ---------------------------------------------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    """The options every script shares; each script adds its own scale options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server (postgresql://...): a fresh database is created on it and dropped afterwards; "
        "default: a SQLite file in a temporary folder",
    )
    p.add_argument("--seed", type=int, default=2026, help="random seed for the generated data (default 2026)")
    p.add_argument(
        "--profile",
        metavar="PATH",
        default="",
        help="run the server process under cProfile and write its stats to PATH (slows the server down)",
    )
    return p


def describe_machine(url: str) -> str:
    kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"database {kind}; Python {platform.python_version()}; {os.cpu_count()} cores, load average {load} "
        "before the run; server and client processes share this machine"
    )


# --- database -------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def throwaway_database(server_url: str) -> AsyncIterator[tuple[str, Path]]:
    """(database URL, data folder): a new database, dropped (or deleted) when the block ends."""
    with tempfile.TemporaryDirectory(prefix="fieldbook-bench-") as tmp:
        data_dir = Path(tmp)
        if not server_url:
            yield f"sqlite:///{data_dir / 'bench.sqlite3'}", data_dir
            return
        if not server_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit(f"--database-url must be postgresql://...: {server_url!r}")
        import asyncpg

        name = f"fb_bench_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        try:
            yield str(httpx.URL(server_url).copy_with(path=f"/{name}")), data_dir
        finally:
            admin = await asyncpg.connect(server_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def bench_settings(url: str, data_dir: Path) -> Settings:
    return settings_from_env(
        {},
        data_dir=str(data_dir),
        database_url=url,
        secret_key=SECRET,
        allowed_hosts=["127.0.0.1", "localhost"],
        pwa_dist=str(data_dir / "no-pwa"),
        log_level="warning",
    )


@contextlib.asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[None]:
    """This process's engine on the benchmark database, migrated."""
    engine = db.use_engine(db.build_engine(settings.database_url_resolved()))
    await db.start(engine)
    try:
        await db.migrate()
        yield
    finally:
        await db.stop(engine)


# --- the organisation -----------------------------------------------------------------------------------------


@dataclass
class StoreRef:
    id: uuid.UUID
    lat: float
    lng: float


@dataclass
class Rep:
    user_id: uuid.UUID
    token: str
    stores: list[StoreRef]


@dataclass
class Org:
    org_id: uuid.UUID
    admin_token: str
    reps: list[Rep]
    products: int


async def build_org(
    settings: Settings,
    *,
    name: str,
    reps: int,
    stores_per_rep: int,
    products: int,
    rng: random.Random,
) -> Org:
    """An organisation with an admin, `reps` reps each assigned `stores_per_rep` stores, and a catalogue.

    Users, stores and products are inserted in batches (one password hash shared by every user: hashing is not
    what is measured), then stores and products are recorded as server changes with `record_domain`, in one
    write transaction per table, exactly as the demo seeding does.
    """
    org = await create_organization(name, time_zone="Asia/Shanghai", currency="CNY")
    slug = uuid.uuid4().hex[:8]
    password_hash = hash_password_sync("bench password 0123456789")
    admin = User(
        id=new_id(), org_id=org.id, email=f"admin@{slug}.bench", password_hash=password_hash, name="Admin", role="admin"
    )
    users = [
        User(
            id=new_id(),
            org_id=org.id,
            email=f"rep{i}@{slug}.bench",
            password_hash=password_hash,
            name=f"Rep {i}",
            role="rep",
        )
        for i in range(reps)
    ]
    async with db.write_transaction():
        await insert_in_batches(User, [admin, *users])

    store_rows: list[Store] = []
    refs: list[list[StoreRef]] = []
    for r, user in enumerate(users):
        mine = []
        for s in range(stores_per_rep):
            lat, lng = 31.23 + rng.uniform(-0.15, 0.15), 121.47 + rng.uniform(-0.15, 0.15)
            data = StoreCreate(
                code=f"S{r:04d}-{s:04d}",
                name=f"FamilyMart {r}-{s}",
                channel="convenience",
                chain="FamilyMart",
                lat=round(lat, 6),
                lng=round(lng, 6),
                address=f"{rng.randint(1, 999)} Nanjing West Road",
                district="Jing'an",
                city="Shanghai",
                postcode="200040",
                country="CN",
                opening_hours={day: [Interval("07:00", "23:00")] for day in WEEKDAYS},
                assigned_rep_id=user.id,
            )
            store_id = new_id()
            store_rows.append(Store(id=store_id, org_id=org.id, **store_values(data)))
            mine.append(StoreRef(store_id, data.lat, data.lng))
        refs.append(mine)
    product_rows = [
        Product(
            id=new_id(),
            org_id=org.id,
            **asdict(
                ProductCreate(
                    code=f"SKU-{p:05d}",
                    name=f"Jasmine tea {p} 500ml",
                    brand=rng.choice(("Demo", "Acme", "Globex")),
                    category=rng.choice(("Beverages", "Snacks", "Dairy", "Household")),
                    pack_size="500ml",
                    own_brand=rng.random() < 0.6,
                    rrp_minor=rng.randint(150, 4500),
                )
            ),
        )
        for p in range(products)
    ]
    async with db.write_transaction():
        await insert_in_batches(Store, store_rows)
        await record_domain(org.id, "store", [s.id for s in store_rows])
    async with db.write_transaction():
        await insert_in_batches(Product, product_rows)
        await record_domain(org.id, "product", [p.id for p in product_rows])

    issuer = TokenIssuer(build_jwt_auth(settings, SECRET), settings.token_ttl_minutes)
    return Org(
        org_id=org.id,
        admin_token=issuer.issue(admin.id)[0],
        reps=[Rep(u.id, issuer.issue(u.id)[0], mine) for u, mine in zip(users, refs, strict=True)],
        products=products,
    )


# --- a rep's day of changes -----------------------------------------------------------------------------------

OUTCOMES = ("order_taken", "no_order", "store_closed", "manager_absent", "other")
NOTE_WORDS = (
    "manager away, spoke to the shift lead",
    "shelf restocked",
    "two facings missing on the tea shelf",
    "competitor promo at the till",
    "asked for a price tag reprint",
    "cooler door broken, reported",
    "order to follow by phone",
)


@dataclass
class Stamp:
    """A phone's clock for a simulated day: strictly increasing milliseconds, counter 0."""

    node: str
    ms: int

    def next(self, rng: random.Random, step_s: tuple[float, float] = (1.0, 5.0)) -> str:
        self.ms += int(rng.uniform(*step_s) * 1000)
        return f"{self.ms:012x}-0000"


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


def rep_day(
    rng: random.Random,
    node: str,
    stores: Sequence[StoreRef],
    *,
    visits: int,
    notes_saves: int,
    corrections: int,
) -> list[list[Change]]:
    """One rep's day on the phone as groups of changes (one group per visit, in the order they were made).

    Each visit: created planned (`_cl`, store, state, planned, planned_date), checked in (state, time, position,
    accuracy), notes autosaved `notes_saves` times while typing, checked out (state, time, position, accuracy,
    outcome, order value); after it, `corrections` edits of the visit made ten visits earlier (an outcome or
    note fixed later in the day), so edits reach rows stored by earlier requests. A group never splits a new
    row from its required fields. Stamps run through the last 12 hours, so none is ahead of the server.
    """
    now_ms = int(time.time() * 1000)
    clock = Stamp(node, now_ms - 12 * 3600 * 1000)
    gap_ms = int(11 * 3600 * 1000 / max(visits, 1))
    today = dt.datetime.now(dt.UTC).date().isoformat()
    ids = [str(new_id()) for _ in range(visits)]
    groups: list[list[Change]] = []

    def change(row: str, column: str, value: Any) -> Change:
        return Change("visit", row, column, value, clock.next(rng), node)

    for i, row in enumerate(ids):
        store = stores[i % len(stores)]
        clock.ms = max(clock.ms, now_ms - 12 * 3600 * 1000 + i * gap_ms)
        group = [
            change(row, CAUSAL_LENGTH, 1),
            change(row, "store_id", str(store.id)),
            change(row, "state", "planned"),
            change(row, "planned", True),
            change(row, "planned_date", today),
        ]
        check_in = clock.ms
        group += [
            change(row, "state", "checked_in"),
            change(row, "check_in_at", _iso(check_in)),
            change(row, "check_in_lat", round(store.lat + rng.uniform(-2e-4, 2e-4), 6)),
            change(row, "check_in_lng", round(store.lng + rng.uniform(-2e-4, 2e-4), 6)),
            change(row, "check_in_accuracy_m", round(rng.uniform(4, 30), 1)),
        ]
        notes = ""
        for _ in range(notes_saves):
            notes = (notes + "; " if notes else "") + rng.choice(NOTE_WORDS)
            group.append(change(row, "notes", notes[-2000:]))
        outcome = rng.choice(OUTCOMES)
        group += [
            change(row, "state", "checked_out"),
            change(row, "check_out_at", _iso(clock.ms)),
            change(row, "check_out_lat", round(store.lat + rng.uniform(-2e-4, 2e-4), 6)),
            change(row, "check_out_lng", round(store.lng + rng.uniform(-2e-4, 2e-4), 6)),
            change(row, "check_out_accuracy_m", round(rng.uniform(4, 30), 1)),
            change(row, "outcome", outcome),
            change(row, "order_value_minor", rng.randint(5_000, 500_000) if outcome == "order_taken" else None),
        ]
        earlier = ids[i - 10] if i >= 10 else row
        for c in range(corrections):
            if c % 2:
                group.append(change(earlier, "outcome", rng.choice(OUTCOMES)))
            else:
                group.append(change(earlier, "notes", f"corrected: {rng.choice(NOTE_WORDS)}"))
        groups.append(group)
    return groups


def chunk(groups: Sequence[list[Change]], target: int, most: int = 5_000) -> list[list[Change]]:
    """Requests of about `target` changes (never more than `most`), cut only between groups."""
    requests: list[list[Change]] = []
    current: list[Change] = []
    for group in groups:
        if current and (len(current) + len(group) > most or len(current) >= target):
            requests.append(current)
            current = []
        current += group
    if current:
        requests.append(current)
    return requests


# --- the server process ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def server(settings: Settings, profile: str = "") -> AsyncIterator[str]:
    """A uvicorn process serving `create_app()` on 127.0.0.1 (one process, uvloop + httptools, access log off,
    as `fieldbook serve --no-worker` with FIELDBOOK_LOG_LEVEL=warning); yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOOK_")}
    env.update(
        {
            "FIELDBOOK_DATA_DIR": settings.data_dir,
            "FIELDBOOK_DATABASE_URL": settings.database_url,
            "FIELDBOOK_SECRET_KEY": SECRET,
            "FIELDBOOK_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FIELDBOOK_PWA_DIST": settings.pwa_dist,
            "FIELDBOOK_LOG_LEVEL": "warning",
            "FIELDBOOK_IN_PROCESS_WORKER": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    command = [sys.executable]
    if profile:
        command += ["-m", "cProfile", "-o", str(Path(profile).resolve())]
    command += [
        "-m",
        "uvicorn",
        "backend.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--no-server-header",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        async with httpx.AsyncClient(base_url=base, timeout=2.0) as probe:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server process exited with {process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/api/v1/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not answer /api/v1/health within 60 s")
                await asyncio.sleep(0.1)
        yield base
    finally:
        # uvicorn shuts down gracefully on either signal, then raises it again; cProfile writes its stats only
        # when that ends in an exception (SIGINT's KeyboardInterrupt), not in SIGTERM's default death.
        process.send_signal(signal.SIGINT if profile else signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client(base: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
    return httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits)


# --- talking sync ---------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    reply: m.SyncResponse
    seconds: float
    request_bytes: int
    response_bytes: int
    body: bytes
    changes: int
    finished: float  # time.perf_counter() when the answer was in


async def sync_request(
    http: httpx.AsyncClient,
    token: str,
    node: str,
    cursor: str | None,
    changes: Sequence[Change],
    *,
    msgpack: bool = False,
    limit: int | None = None,
) -> Exchange:
    """One POST /api/v1/sync; `seconds` is the round trip from sending the body to the last byte of the answer."""
    message = m.SyncRequest(
        protocol=m.PROTOCOL, schema_version=1, client_id=node, cursor=cursor, changes=list(changes), limit=limit
    )
    body = m.encode_msgpack(message) if msgpack else m.encode_json(message)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/msgpack" if msgpack else "application/json",
    }
    started = time.perf_counter()
    response = await http.post("/api/v1/sync", content=body, headers=headers)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"sync answered {response.status_code}: {response.text[:500]}")
    finished = time.perf_counter()
    reply = m.decode_response(response.content, msgpack=msgpack)
    return Exchange(reply, seconds, len(body), len(response.content), response.content, len(changes), finished)


async def pull_all(http: httpx.AsyncClient, token: str, node: str, cursor: str | None = None) -> str:
    """Pull until has_more is false; returns the cursor (a phone's morning sync, not timed)."""
    for _ in range(10_000):
        exchange = await sync_request(http, token, node, cursor, [])
        cursor = exchange.reply.cursor
        if not exchange.reply.has_more:
            return cursor
    raise SystemExit("the pull never finished (10,000 pages)")


def rejected(replies: Sequence[m.SyncResponse]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reply in replies:
        for result in reply.results:
            if result.status == "rejected":
                counts[result.code or "?"] = counts.get(result.code or "?", 0) + 1
    return counts


async def bounded(concurrency: int, jobs: Sequence[Awaitable[T]]) -> list[T]:
    """Await `jobs` (coroutines not started yet) at most `concurrency` at once; results in the jobs' order."""
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Awaitable[T]) -> T:
        async with gate:
            return await job

    return list(await asyncio.gather(*(run(j) for j in jobs)))


# --- figures --------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
