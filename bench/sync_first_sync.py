"""First sync: a rep's phone downloads its whole scope (cursor null until has_more is false).

The rep has `--stores` assigned stores and the organisation `--products` products, created in bulk and recorded
for sync with `record_domain`. The download runs over real HTTP to a uvicorn process on 127.0.0.1, once in JSON
and once in MessagePack per round; the median round is reported: requests, time (total and per request: the
round trip on loopback, which is the server's time plus the transfer), and bytes on the wire in JSON, JSON
gzipped at level 6 (what a proxy or the server would send with Content-Encoding: gzip), and MessagePack.

Baseline, same run, same database, this process: a plain SELECT of the same rows from sync_field (the columns a
pull returns, the caller's scope, in sequence order).

    .venv/bin/python -m bench.sync_first_sync                              # 500 stores, 2,000 products, SQLite
    .venv/bin/python -m bench.sync_first_sync --stores 100 --products 300  # quick
    .venv/bin/python -m bench.sync_first_sync --database-url postgresql://user@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import gzip
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

from backend.sync_api.tables import SyncField
from bench import _harness as h
from sync.checksum import state_checksum
from sync.merge import Replica


@dataclass
class Download:
    seconds: list[float] = field(default_factory=list)
    page_sizes: list[int] = field(default_factory=list)
    wire: int = 0
    gzipped: int = 0
    request_bytes: int = 0
    checksum_ok: bool = False

    @property
    def total(self) -> float:
        return sum(self.seconds)


async def download(http: object, token: str, *, msgpack: bool, limit: int | None) -> Download:
    """One first sync; checks the replica's checksum against the server's at the end."""
    node, cursor, done, replica = f"dev-{uuid.uuid4().hex[:12]}", None, Download(), Replica()
    for _ in range(10_000):
        exchange = await h.sync_request(http, token, node, cursor, [], msgpack=msgpack, limit=limit)  # type: ignore[arg-type]
        done.seconds.append(exchange.seconds)
        done.page_sizes.append(len(exchange.reply.changes))
        done.wire += exchange.response_bytes
        done.request_bytes += exchange.request_bytes
        if not msgpack:
            done.gzipped += len(gzip.compress(exchange.body, compresslevel=6))
        replica.apply_all(exchange.reply.changes)
        cursor = exchange.reply.cursor
        if not exchange.reply.has_more:
            done.checksum_ok = state_checksum(replica.changes()) == exchange.reply.checksum
            return done
    raise SystemExit("the download never finished (10,000 pages)")


async def plain_select(org_id: uuid.UUID, user_id: uuid.UUID) -> tuple[float, int]:
    started = time.perf_counter()
    rows = await SyncField.raw(
        "SELECT tbl, row_id, col, value, hlc, node, seq FROM sync_field "
        "WHERE org_id = {} AND (org_wide = {} OR owner_id = {}) ORDER BY seq",
        org_id,
        True,
        user_id,
    ).run()
    return time.perf_counter() - started, len(rows)


def median_round(rounds: list[Download]) -> Download:
    return sorted(rounds, key=lambda d: d.total)[len(rounds) // 2]


def describe(name: str, d: Download) -> str:
    sizes = sorted(set(d.page_sizes), reverse=True)
    pages = " + ".join(f"{d.page_sizes.count(n)} x {n:,}" for n in sizes)
    return (
        f"  {name}: {len(d.seconds)} requests (pages of changes: {pages}), {h.ms(d.total)} in all; per request mean "
        f"{h.ms(d.total / len(d.seconds))}, median {h.ms(statistics.median(d.seconds))}, max {h.ms(max(d.seconds))}; "
        f"checksum {'matches' if d.checksum_ok else 'DIFFERS'}"
    )


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    p.add_argument("--stores", type=int, default=500, help="stores assigned to the rep (default 500)")
    p.add_argument("--products", type=int, default=2_000, help="products in the catalogue (default 2,000)")
    p.add_argument("--rounds", type=int, default=3, help="downloads per format; the median is shown (default 3)")
    p.add_argument("--limit", type=int, default=None, help="the request's limit (default: the server's page size)")
    args = p.parse_args()
    rng = random.Random(args.seed)

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        print(f"sync_first_sync: {h.describe_machine(url)}")
        async with h.connected(settings):
            setup = time.perf_counter()
            org = await h.build_org(
                settings, name="First Sync Foods", reps=1, stores_per_rep=args.stores, products=args.products, rng=rng
            )
            rep = org.reps[0]
            took = time.perf_counter() - setup
            print(f"  setup: 1 rep, {args.stores:,} stores, {args.products:,} products ({took:.1f} s)")
            async with h.server(settings, args.profile) as base, h.client(base, 1) as http:
                await download(http, rep.token, msgpack=False, limit=args.limit)  # warm up both processes
                as_json, as_msgpack, selects = [], [], []
                for _ in range(args.rounds):
                    as_json.append(await download(http, rep.token, msgpack=False, limit=args.limit))
                    as_msgpack.append(await download(http, rep.token, msgpack=True, limit=args.limit))
                    selects.append(await plain_select(org.org_id, rep.user_id))
    j, mp = median_round(as_json), median_round(as_msgpack)
    select_s, rows = sorted(selects)[len(selects) // 2]
    print(f"  scope: {sum(j.page_sizes):,} field versions; the plain SELECT finds {rows:,}")
    print("  time is the round trip on 127.0.0.1 (server time + loopback transfer + client read), median of rounds:")
    print(describe("JSON", j))
    print(describe("MessagePack", mp))
    print(
        f"  bytes on the wire (answers; the {len(j.seconds)} requests add {j.request_bytes:,} B): "
        f"JSON {j.wire:,} B, JSON gzip-6 {j.gzipped:,} B ({j.gzipped / j.wire:.0%} of JSON), "
        f"MessagePack {mp.wire:,} B ({mp.wire / j.wire:.0%} of JSON)"
    )
    print(f"  baseline (plain SELECT of the same rows from sync_field, this process): {h.ms(select_s)}")
    print(f"  ratio first sync/baseline: JSON {j.total / select_s:.1f}, MessagePack {mp.total / select_s:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
