"""A day of field work pushed at the end of the day: per-request latency (p50, p99) and throughput.

Each rep made about 1,500 changes on the phone during the day: `--visits` visits, each created planned, checked in
(time, position, accuracy), notes autosaved while typing, checked out (time, position, accuracy, outcome, order
value), and earlier visits corrected later. In the morning (untimed) every phone pulled its scope; in the evening
each pushes its outbox (one request: at most 5,000 changes fit) and pulls until has_more is false, `--concurrency`
phones at a time, over real HTTP to a uvicorn process on 127.0.0.1.

Baseline, same run, same server, same concurrency: p50 and p99 of a trivial authenticated request, GET /api/v1/me
(token check, two primary-key reads).

1,000 reps x 1,500 changes is 1.5 M changes: more than a few minutes on a small machine, so the rep count is a
parameter (default 100) and the output says which scale ran; anything about 1,000 reps is extrapolated and says so.

    .venv/bin/python -m bench.sync_day                       # 100 reps x ~1,500 changes, SQLite
    .venv/bin/python -m bench.sync_day --reps 20             # quick
    .venv/bin/python -m bench.sync_day --reps 1000           # the full day (long)
    .venv/bin/python -m bench.sync_day --database-url postgresql://user@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid

import httpx

from backend.sync_api.tables import SyncField
from backend.visits.tables import Visit
from bench import _harness as h
from sync.changes import Change

FULL_DAY_REPS = 1_000
BASE_CHANGES = 17  # per visit: 5 to create, 5 to check in, 7 to check out
PROBES = 7


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=100, help=f"reps (default 100; the full day has {FULL_DAY_REPS:,})")
    p.add_argument("--visits", type=int, default=30, help="visits per rep (default 30)")
    p.add_argument("--notes-saves", type=int, default=28, help="notes autosaves per visit (default 28)")
    p.add_argument("--corrections", type=int, default=5, help="later edits per visit of an earlier visit (default 5)")
    p.add_argument("--concurrency", type=int, default=4, help="phones syncing at once (default 4)")
    p.add_argument("--products", type=int, default=300, help="products in the catalogue (default 300)")
    p.add_argument("--me-requests", type=int, default=1_000, help="GET /api/v1/me requests for the baseline")
    args = p.parse_args()
    rng = random.Random(args.seed)

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        print(f"sync_day: {h.describe_machine(url)}")
        async with h.connected(settings):
            setup = time.perf_counter()
            # One more rep than asked: the probe, who syncs alone before and after the evening.
            org = await h.build_org(
                settings,
                name="Day Foods",
                reps=args.reps + 1,
                stores_per_rep=args.visits,
                products=args.products,
                rng=rng,
            )
            reps, probe = org.reps[:-1], org.reps[-1]
            nodes = [f"dev-{uuid.uuid4().hex[:12]}" for _ in org.reps]

            def day(rep: h.Rep, node: str, visits: int) -> list[list[Change]]:
                return h.rep_day(
                    rng, node, rep.stores, visits=visits, notes_saves=args.notes_saves, corrections=args.corrections
                )

            # Each outbox goes in requests of at most 5,000 changes (the protocol's limit), cut between visits.
            outboxes = [
                h.chunk(day(rep, node, args.visits), target=5_000) for rep, node in zip(reps, nodes, strict=False)
            ]
            probe_visits = day(probe, nodes[-1], 2 * PROBES)
            total = sum(len(r) for requests in outboxes for r in requests)
            print(
                f"  setup: {args.reps} reps x {args.visits} stores, {args.products} products "
                f"({time.perf_counter() - setup:.1f} s)"
            )
            print(
                f"  workload: {args.reps} reps x {total // args.reps:,} changes = {total:,} changes "
                f"({args.visits} visits each: {BASE_CHANGES} changes to create, check in and out, "
                f"{args.notes_saves} notes saves, {args.corrections} later corrections)"
            )

            rows_before = await SyncField.count().run()
            catalogue_rows = await SyncField.count().where(SyncField.tbl == "product").run()
            async with h.server(settings, args.profile) as base, h.client(base, args.concurrency) as http:
                cursors = await h.bounded(
                    args.concurrency, [h.pull_all(http, r.token, n) for r, n in zip(org.reps, nodes, strict=True)]
                )

                async def me(token: str) -> float:
                    started = time.perf_counter()
                    response = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
                    if response.status_code != 200:
                        raise SystemExit(f"/api/v1/me answered {response.status_code}: {response.text[:300]}")
                    return time.perf_counter() - started

                tokens = [reps[i % len(reps)].token for i in range(args.me_requests)]
                me_seconds = await h.bounded(args.concurrency, [me(t) for t in tokens])

                async def probing(visits: list[list[Change]]) -> float:
                    """The median time of the probe pushing one visit at a time, alone on the server."""
                    if url.startswith("postgres"):
                        # Measure the table's size, not how far autovacuum has got with the dead tuples.
                        await SyncField.raw("VACUUM ANALYZE sync_field").run()
                    seconds = []
                    for changes in visits:
                        exchange = await h.sync_request(http, probe.token, nodes[-1], cursors[-1], changes)
                        cursors[-1] = exchange.reply.cursor
                        seconds.append(exchange.seconds)
                    return statistics.median(seconds)

                probe_before = await probing(probe_visits[:PROBES])
                started = time.perf_counter()
                exchanges = await h.bounded(
                    args.concurrency,
                    [
                        push_day(http, r.token, n, c, o)
                        for r, n, c, o in zip(reps, nodes, cursors, outboxes, strict=False)
                    ],
                )
                wall = time.perf_counter() - started
                probe_after = await probing(probe_visits[PROBES:])
            flat = [e for done in exchanges for e in done]
            refused = h.rejected([e.reply for e in flat])
            projected = await Visit.count().where((Visit.org_id == org.org_id) & (Visit.rep_id != probe.user_id)).run()
            rows_after = await SyncField.count().run()

    seconds = [e.seconds for e in flat]
    rate = total / wall
    p50, p99 = h.percentile(seconds, 50), h.percentile(seconds, 99)
    me50, me99 = h.percentile(me_seconds, 50), h.percentile(me_seconds, 99)
    probe_size = len(probe_visits[0])
    print(
        f"  measured at {args.reps} reps (real HTTP, uvicorn process on 127.0.0.1, {args.concurrency} phones at once):"
    )
    print(
        f"    end-of-day sync: {len(flat)} requests, p50 {h.ms(p50)}, p99 {h.ms(p99)}, max {h.ms(max(seconds))}; "
        f"{total:,} changes in {wall:.1f} s = {rate:,.0f} changes/s; rejected {sum(refused.values())}"
        f"{' ' + str(refused) if refused else ''}; visits projected {projected:,} of {args.visits * args.reps:,}"
    )
    print(f"    baseline GET /api/v1/me ({len(me_seconds)} requests): p50 {h.ms(me50)}, p99 {h.ms(me99)}")
    print(f"    ratio sync/baseline: p50 {p50 / me50:.0f}x, p99 {p99 / me99:.0f}x")
    print(
        f"    probe (one rep alone pushing one visit, {probe_size} changes; median of {PROBES}): {h.ms(probe_before)} "
        f"with sync_field at {rows_before:,} rows, {h.ms(probe_after)} at {rows_after:,} rows"
    )
    if args.reps < FULL_DAY_REPS:
        extrapolate(
            args.reps, total, len(flat), wall, (rows_before, rows_after, catalogue_rows), probe_before, probe_after
        )


def extrapolate(
    reps: int,
    total: int,
    requests: int,
    wall: float,
    rows: tuple[int, int, int],
    probe_before: float,
    probe_after: float,
) -> None:
    """The full day from this run's figures, labelled as such: at the measured rate, and with every request
    slower by the probe's growth per row of sync_field (the table starts and ends `scale` times larger)."""
    before, after, catalogue = rows
    scale = FULL_DAY_REPS / reps
    full = total * scale
    slope = max(0.0, (probe_after - probe_before) / (after - before)) if after > before else 0.0
    start = catalogue + (before - catalogue) * scale
    end = start + (after - before) * scale
    extra = (start + end) / 2 - (before + after) / 2  # rows more than this run had, on average
    per_request = wall / requests
    print(f"  EXTRAPOLATED to {FULL_DAY_REPS:,} reps ({full / 1e6:.1f} M changes; not measured):")
    print(f"    at the measured {total / wall:,.0f} changes/s: {full / (total / wall) / 60:.0f} min of evening pushes")
    print(
        f"    with each request {slope * 1e6:.3f} ms slower per 1,000 rows of sync_field, as the probe found: "
        f"{requests * scale * (per_request + slope * extra) / 60:.0f} min; sync_field ends near {end:,.0f} rows "
        f"and a request then costs about {h.ms(per_request + slope * (end - (before + after) / 2))} of server time"
    )


async def push_day(
    http: httpx.AsyncClient, token: str, node: str, cursor: str, requests: list[list[Change]]
) -> list[h.Exchange]:
    """The evening sync: push the outbox request by request, then pull until has_more is false."""
    done: list[h.Exchange] = []
    for changes in requests or [[]]:
        exchange = await h.sync_request(http, token, node, cursor, changes)
        cursor = exchange.reply.cursor
        done.append(exchange)
    while done[-1].reply.has_more:
        done.append(await h.sync_request(http, token, node, cursor, []))
        cursor = done[-1].reply.cursor
    return done


if __name__ == "__main__":
    asyncio.run(main())
