"""Sync ingest: changes per second pushed through POST /api/v1/sync, against a plain bulk insert of the same rows.

Each rep's device pushes its day (visits created, checked in, notes typed, checked out, earlier visits corrected)
in requests of about `--request-size` changes, `--concurrency` devices at a time, over real HTTP to a uvicorn
process on 127.0.0.1. Before that (untimed) every device does its first pull, so it pushes with a cursor.

Baseline, same run, same database, same process as the client: the same change rows written with plain
`INSERT ... VALUES` (200 rows a statement, one transaction per request's worth) into a copy of `sync_field`
with the same columns and indexes (the field key index not unique: edits repeat a field).

    .venv/bin/python -m bench.sync_ingest                      # 100 devices x 1,000 changes, SQLite
    .venv/bin/python -m bench.sync_ingest --changes 10000      # quick
    .venv/bin/python -m bench.sync_ingest --database-url postgresql://user@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

import msgspec

from backend import db
from backend.orgs.services import create_organization
from backend.sync_api.tables import SyncField
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Visit
from bench import _harness as h
from sync.changes import Change
from sync.checksum import change_fingerprint

CHANGES_PER_VISIT = 25  # 5 to create + 5 to check in + 5 notes saves + 7 to check out + 3 later corrections
STATEMENT_ROWS = 200
COLUMNS = "id, org_id, tbl, row_id, col, value, hlc, node, seq, fp, alive, org_wide, owner_id, territory_id, updated_at"


async def make_copy_table() -> None:
    """`bench_field`: sync_field's columns and indexes, the field key not unique."""
    await SyncField.raw("DROP TABLE IF EXISTS bench_field").run()
    await SyncField.raw("CREATE TABLE bench_field AS SELECT * FROM sync_field WHERE 1 = 0").run()
    for name, columns, unique in (
        ("bench_field_pk", "id", True),
        ("bench_field_key", "org_id, tbl, row_id, col", False),
        ("bench_field_org_seq", "org_id, seq", False),
        ("bench_field_owner_seq", "org_id, owner_id, seq", False),
    ):
        await SyncField.raw(f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON bench_field ({columns})").run()


async def bulk_insert(requests: list[list[Change]], owner: uuid.UUID) -> float:
    """Seconds to insert every change of `requests` as a row of bench_field (rows prepared before the clock)."""
    org = await create_organization(f"Baseline {uuid.uuid4().hex[:6]}")
    now = utcnow()
    seq = 0
    prepared: list[list[list[Any]]] = []
    for changes in requests:
        statements = []
        for start in range(0, len(changes), STATEMENT_ROWS):
            args: list[Any] = []
            for c in changes[start : start + STATEMENT_ROWS]:
                seq += 1
                value = msgspec.json.encode(c.value).decode()
                args += [new_id(), org.id, c.table, c.row, c.column, value, c.hlc, c.node, seq]
                args += [change_fingerprint(c), True, False, owner, None, now]
            statements.append(args)
        prepared.append(statements)
    row_sql = "(" + ", ".join(["{}"] * 15) + ")"
    started = time.perf_counter()
    for statements in prepared:
        async with db.write_transaction():
            for args in statements:
                values = ", ".join([row_sql] * (len(args) // 15))
                await SyncField.raw(f"INSERT INTO bench_field ({COLUMNS}) VALUES {values}", *args).run()
    return time.perf_counter() - started


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    p.add_argument("--changes", type=int, default=100_000, help="changes in all (default 100,000)")
    p.add_argument("--devices", type=int, default=100, help="reps, one device each (default 100)")
    p.add_argument("--request-size", type=int, default=500, help="changes per request, about (default 500)")
    p.add_argument("--concurrency", type=int, default=4, help="devices pushing at once (default 4)")
    p.add_argument("--stores-per-rep", type=int, default=10, help="stores assigned to each rep (default 10)")
    p.add_argument("--products", type=int, default=300, help="products in the catalogue (default 300)")
    args = p.parse_args()
    rng = random.Random(args.seed)
    visits = max(1, round(args.changes / args.devices / CHANGES_PER_VISIT))

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        print(f"sync_ingest: {h.describe_machine(url)}")
        async with h.connected(settings):
            setup = time.perf_counter()
            org = await h.build_org(
                settings,
                name="Ingest Foods",
                reps=args.devices,
                stores_per_rep=args.stores_per_rep,
                products=args.products,
                rng=rng,
            )
            nodes = [f"dev-{uuid.uuid4().hex[:12]}" for _ in org.reps]
            pushes = [
                h.chunk(
                    h.rep_day(rng, node, rep.stores, visits=visits, notes_saves=5, corrections=3), args.request_size
                )
                for rep, node in zip(org.reps, nodes, strict=True)
            ]
            total = sum(len(r) for requests in pushes for r in requests)
            count = sum(len(requests) for requests in pushes)
            print(
                f"  setup: {args.devices} reps x {args.stores_per_rep} stores, {args.products} products "
                f"({time.perf_counter() - setup:.1f} s)"
            )
            print(
                f"  workload: {total:,} changes from {args.devices} devices ({total // args.devices:,} each) in "
                f"{count} requests of ~{total // count} changes; {visits} visits per device"
            )

            # The baseline runs before the server starts, so the two never compete for the database or the CPU.
            await make_copy_table()
            base_s = await bulk_insert([r for requests in pushes for r in requests], org.reps[0].user_id)
            await SyncField.raw("DROP TABLE bench_field").run()

            async with h.server(settings, args.profile) as base, h.client(base, args.concurrency) as http:
                cursors = await h.bounded(
                    args.concurrency,
                    [h.pull_all(http, rep.token, node) for rep, node in zip(org.reps, nodes, strict=True)],
                )

                async def device(i: int) -> list[h.Exchange]:
                    rep, cursor, done = org.reps[i], cursors[i], []
                    for changes in pushes[i]:
                        exchange = await h.sync_request(http, rep.token, nodes[i], cursor, changes)
                        cursor = exchange.reply.cursor
                        done.append(exchange)
                    return done

                started = time.perf_counter()
                exchanges = await h.bounded(args.concurrency, [device(i) for i in range(len(org.reps))])
                ingest_s = time.perf_counter() - started
            flat = [e for done in exchanges for e in done]
            refused = h.rejected([e.reply for e in flat])
            projected = await Visit.count().where(Visit.org_id == org.org_id).run()
            stored = await SyncField.count().run()

    seconds = [e.seconds for e in flat]
    ingest_rate, base_rate = total / ingest_s, total / base_s
    print(
        f"  ingest (real HTTP, uvicorn process on 127.0.0.1, {args.concurrency} devices at a time): "
        f"{total:,} changes in {ingest_s:.1f} s = {ingest_rate:,.0f} changes/s"
    )
    print(
        f"    per request: p50 {h.ms(h.percentile(seconds, 50))}, p99 {h.ms(h.percentile(seconds, 99))}, "
        f"max {h.ms(max(seconds))}; rejected: {sum(refused.values())}{' ' + str(refused) if refused else ''}; "
        f"visits projected: {projected:,} of {visits * args.devices:,}"
    )
    print(f"    sync_field holds {stored:,} rows at the end")
    print(
        f"  baseline (INSERT ... VALUES into a copy of sync_field, {STATEMENT_ROWS} rows a statement, one "
        f"transaction per request's changes, this process): {total:,} rows in {base_s:.2f} s = {base_rate:,.0f} rows/s"
    )
    print(f"  ratio ingest/baseline: {ingest_rate / base_rate:.3f}  (issue target >= 0.3)")


if __name__ == "__main__":
    asyncio.run(main())
