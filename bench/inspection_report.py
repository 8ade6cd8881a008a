"""The out-of-stock report: GET /api/v1/reports/inspections/out-of-stock over every item of the range, through HTTP.

`--stores` stores (10 reps, `--territories` territories), `--products` products (every other one must-stock: its
items carry `must_stock`), `--visits` visits per store, one a week on a weekday of its own, each with an
inspection of every product (300 x 150 x 20 = 900,000 items by default). Inserted in bulk (`db.insert_rows`, one
write transaction per chunk), as the server would leave them: scores, must-stock flags, shelf prices against a
reference, an expiry date on some items, a few inspections with no `started_at`. One product in ten is often out
of stock (20% of its audits), the others rarely (2%).

The admin's report over the whole range (a weekly trend) is timed by=product and by=territory through real HTTP
to a uvicorn process on 127.0.0.1: one warm-up, then the median of `--runs` requests. Baseline, same run, same
database: the bare SQL aggregate (the same GROUP BY of the same rows) run directly on the driver (sqlite3 or
asyncpg) in this process, median of `--runs`; and, to show where the time goes, the three statements the
endpoint runs (rows, trend, hotspots) run bare the same way.

    .venv/bin/python -m bench.inspection_report            # 300 stores x 150 products x 20 visits (~2 min on SQLite)
    .venv/bin/python -m bench.inspection_report --small    # 30 x 50 x 5, seconds
    .venv/bin/python -m bench.inspection_report --database-url postgresql://user@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from backend import db
from backend.inspections.reports import local_midnight, periods
from backend.inspections.reports._sql import bucket_index
from backend.stores.tables import Territory
from backend.tables_base import new_ids
from bench import _harness as h

ZONE = "Asia/Shanghai"  # build_org's organisation
PATH = "/api/v1/reports/inspections/out-of-stock"
CHUNK_INSPECTIONS = 200  # inspections (and their items) per write transaction
AT = "COALESCE(i.started_at, i.created_at)"
# The endpoint's statements, bare: the same joins and GROUP BY (backend/inspections/reports/), with no labels.
SCOPE = f"i.org_id = {{}} AND {AT} >= {{}} AND {AT} < {{}}"
ITEMS = "FROM inspection i CROSS JOIN inspection_item it WHERE it.inspection_id = i.id AND"
WITH_STORE = "FROM inspection i CROSS JOIN store s CROSS JOIN inspection_item it WHERE s.id = i.store_id AND "
WITH_STORE += "it.inspection_id = i.id AND"
OUT = "CASE WHEN it.present THEN 0 ELSE 1 END"
STORES = (
    "SUM(x.audits), SUM(x.oos), COUNT(DISTINCT x.store_id), COUNT(DISTINCT CASE WHEN x.oos > 0 THEN x.store_id END)"
)
ROWS_SQL = {
    "product": f"SELECT x.product_id, {STORES} FROM (SELECT i.store_id, it.product_id, COUNT(*) AS audits, "
    f"SUM({OUT}) AS oos {ITEMS} {SCOPE} GROUP BY i.store_id, it.product_id) x GROUP BY x.product_id",
    "territory": f"SELECT x.territory_id, {STORES} FROM (SELECT i.id, i.store_id, s.territory_id, COUNT(*) AS audits, "
    f"SUM({OUT}) AS oos {WITH_STORE} {SCOPE} GROUP BY i.id, i.store_id, s.territory_id) x GROUP BY x.territory_id",
}
HOTSPOTS_SQL = (
    "SELECT x.product_id, x.territory_id, COUNT(*), SUM(CASE WHEN x.oos > 0 THEN 1 ELSE 0 END) FROM (SELECT "
    f"it.product_id, s.territory_id, i.store_id, SUM({OUT}) AS oos {WITH_STORE} {SCOPE} AND s.territory_id IS NOT "
    "NULL GROUP BY it.product_id, s.territory_id, i.store_id) x GROUP BY x.product_id, x.territory_id "
    "HAVING SUM(CASE WHEN x.oos > 0 THEN 1 ELSE 0 END) >= {}"
)
TREND_SQL = (
    "SELECT {bucket} AS bucket, SUM(x.audits), SUM(x.oos) FROM (SELECT i.id, "
    + f"{AT} AS at, COUNT(*) AS audits, SUM({OUT}) AS oos {ITEMS} {SCOPE} GROUP BY i.id, i.started_at, i.created_at) x "
    + "GROUP BY 1"
)


async def seed(org: h.Org, args: Any, rng: random.Random, first: dt.date) -> tuple[int, int]:
    """Territories, then visits, inspections and items for every store; returns (inspections, items)."""
    territories = [(tid, org.org_id, f"Territory {k}") for k, tid in enumerate(new_ids(args.territories))]
    stores = [s for rep in org.reps for s in rep.stores]
    reps = {s.id: rep.user_id for rep in org.reps for s in rep.stores}
    weekday = {s.id: k % 7 for k, s in enumerate(stores)}  # each store visited on a weekday of its own
    async with db.write_transaction():
        await db.insert_rows('INSERT INTO "territory" (id, org_id, name)', territories)
        await db.executemany(
            'UPDATE "store" SET territory_id = {} WHERE id = {}',
            [(territories[k % len(territories)][0], s.id) for k, s in enumerate(stores)],
        )
    products = [r["id"] for r in await db_fetch("SELECT id FROM product WHERE org_id = {} ORDER BY code", org.org_id)]
    zone = ZoneInfo(ZONE)
    jobs = [(store, week) for store in stores for week in range(args.visits)]
    total_items = 0
    for start in range(0, len(jobs), CHUNK_INSPECTIONS):
        chunk = jobs[start : start + CHUNK_INSPECTIONS]
        visit_ids, inspection_ids = new_ids(len(chunk)), new_ids(len(chunk))
        item_ids = new_ids(len(chunk) * len(products))
        visits, inspections, items = [], [], []
        for n, (store, week) in enumerate(chunk):
            day = first + dt.timedelta(days=7 * week + weekday[store.id])
            local = dt.datetime.combine(day, dt.time(9), tzinfo=zone) + dt.timedelta(minutes=rng.randint(0, 540))
            at = local.astimezone(dt.UTC)
            received = at + dt.timedelta(minutes=rng.randint(30, 300))
            rep = reps[store.id]
            out = at + dt.timedelta(minutes=rng.randint(10, 40))
            visits.append((visit_ids[n], org.org_id, rep, store.id, "checked_out", True, at, out, received, received))
            missing = 0
            for p, product in enumerate(products):
                must = p % 2 == 0
                present = rng.random() >= (0.2 if p % 10 == 0 else 0.02)
                missing += not present
                priced = present and rng.random() < 0.6
                deviation = round(rng.gauss(0, 5), 1) if priced else None
                expiry = day + dt.timedelta(days=rng.randint(-3, 90)) if present and rng.random() < 0.1 else None
                items.append(
                    (
                        item_ids[n * len(products) + p],
                        org.org_id,
                        inspection_ids[n],
                        product,
                        present,
                        rng.randint(1, 24) if present else 0,
                        rng.randint(1, 4) if present else 0,
                        round(450 * (1 + deviation / 100)) if deviation is not None else None,
                        expiry,
                        must,
                        1 if must else None,
                        450 if priced else None,
                        5.0 if priced else None,
                        deviation,
                        abs(deviation) <= 5.0 if deviation is not None else None,
                        received,
                        received,
                    )
                )
            started = None if rng.random() < 0.05 else at
            scores = [round(rng.random(), 4) for _ in range(5)]
            inspections.append(
                (
                    inspection_ids[n],
                    org.org_id,
                    visit_ids[n],
                    store.id,
                    rep,
                    started,
                    round(missing / len(products), 4),
                    *scores,
                    received,
                    received,
                )
            )
        async with db.write_transaction():
            await db.insert_rows(
                'INSERT INTO "visit" (id, org_id, rep_id, store_id, state, planned, check_in_at, check_out_at, '
                "created_at, updated_at)",
                visits,
                pg_types=("uuid", "uuid", "uuid", "uuid", "text", "bool", *["timestamptz"] * 4),
            )
            await db.insert_rows(
                'INSERT INTO "inspection" (id, org_id, visit_id, store_id, rep_id, started_at, oos_rate, '
                "assortment_compliance, facings_compliance, price_compliance, share_of_shelf, score, created_at, "
                "updated_at)",
                inspections,
                pg_types=(*["uuid"] * 5, "timestamptz", *["float8"] * 6, "timestamptz", "timestamptz"),
            )
            await db.insert_rows(
                'INSERT INTO "inspection_item" (id, org_id, inspection_id, product_id, present, quantity, facings, '
                "shelf_price_minor, expiry_date, must_stock, min_facings, reference_price_minor, "
                "price_tolerance_pct, price_deviation_pct, price_ok, created_at, updated_at)",
                items,
                pg_types=(
                    *["uuid"] * 4,
                    "bool",
                    "int4",
                    "int4",
                    "int4",
                    "date",
                    "bool",
                    "int4",
                    "int4",
                    "float8",
                    "float8",
                    "bool",
                    "timestamptz",
                    "timestamptz",
                ),
            )
        total_items += len(items)
    return len(jobs), total_items


async def db_fetch(query: str, *args: Any) -> list[Any]:
    async with db.read_transaction():
        return await db.fetch(query, *args)


class Bare:
    """Statements run straight on the driver, outside the app: sqlite3 or asyncpg, one connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self.connection: Any = None

    async def __aenter__(self) -> Bare:
        if self.sqlite:
            self.connection = sqlite3.connect(self.url[len("sqlite:///") :])
        else:
            import asyncpg

            self.connection = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.sqlite:
            self.connection.close()
        else:
            await self.connection.close()

    async def run(self, query: str, args: Sequence[Any]) -> int:
        if self.sqlite:
            return len(self.connection.execute(query.replace("{}", "?"), args).fetchall())
        parts = query.split("{}")
        text = "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]
        return len(await self.connection.fetch(text, *args))


async def median_seconds(runs: int, job: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """One warm-up, then the median of `runs` timed calls; returns (seconds, the last result)."""
    result = await job()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await job()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def main() -> None:
    p = h.parser(__doc__.split("\n\n")[0])
    p.add_argument("--stores", type=int, default=300, help="stores (default 300)")
    p.add_argument("--products", type=int, default=150, help="products, each audited at every visit (default 150)")
    p.add_argument("--visits", type=int, default=20, help="visits (and inspections) per store, one a week (default 20)")
    p.add_argument("--territories", type=int, default=10, help="territories the stores are spread over (default 10)")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each figure, median reported (default 5)")
    p.add_argument("--small", action="store_true", help="a quick check: 30 stores x 50 products x 5 visits")
    args = p.parse_args()
    if args.small:
        args.stores, args.products, args.visits, args.territories, args.runs = 30, 50, 5, 3, 3
    if args.stores % 10:
        raise SystemExit("--stores must be a multiple of 10 (10 reps)")
    rng = random.Random(args.seed)
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    first = today - dt.timedelta(days=7 * args.visits)
    last = first + dt.timedelta(days=7 * args.visits - 1)

    async with h.throwaway_database(args.database_url) as (url, data_dir):
        settings = h.bench_settings(url, data_dir)
        print(f"inspection_report: {h.describe_machine(url)}")
        async with h.connected(settings):
            setup = time.perf_counter()
            org = await h.build_org(
                settings, name="Shelf Foods", reps=10, stores_per_rep=args.stores // 10, products=args.products, rng=rng
            )
            organised = time.perf_counter() - setup
            inspections, items = await seed(org, args, rng, first)
            if not url.startswith("sqlite"):
                await Territory.raw("ANALYZE").run()
            print(
                f"  setup: {args.stores} stores in {args.territories} territories, {args.products} products, "
                f"{inspections:,} visits and inspections, {items:,} items from {first} to {last} ({ZONE}); "
                f"organisation {organised:.1f} s, inspections {time.perf_counter() - setup - organised:.1f} s"
            )
        period, starts = periods(first, last)
        start, end = local_midnight(first, ZONE), local_midnight(last + dt.timedelta(days=1), ZONE)
        scope = (org.org_id, start, end)
        trend = bucket_index("x.at", [local_midnight(s, ZONE) for s in starts[1:]])
        trend_sql = TREND_SQL.replace("{bucket}", trend.text)
        params = {"date_from": first.isoformat(), "date_to": last.isoformat()}
        figures: dict[str, dict[str, Any]] = {}

        async with h.server(settings, args.profile) as base, h.client(base, 1) as http:
            headers = {"Authorization": f"Bearer {org.admin_token}"}

            async def report(by: str) -> httpx.Response:
                response = await http.get(PATH, params={**params, "by": by}, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{PATH} answered {response.status_code}: {response.text[:500]}")
                return response

            for by in ROWS_SQL:
                seconds, response = await median_seconds(args.runs, lambda by=by: report(by))
                figures[by] = {"http": seconds, "body": response.json(), "bytes": len(response.content)}

        async with Bare(url) as bare:
            for by, query in ROWS_SQL.items():
                figures[by]["sql"], groups = await median_seconds(args.runs, lambda q=query: bare.run(q, scope))
                body = figures[by]["body"]
                if groups != len(body["rows"]) or sum(r["audits"] for r in body["rows"]) != items:
                    raise SystemExit(f"by={by}: the report's rows disagree with the bare aggregate")
            trend_s, buckets = await median_seconds(args.runs, lambda: bare.run(trend_sql, (*trend.args, *scope)))
            hotspots_s, hotspots = await median_seconds(args.runs, lambda: bare.run(HOTSPOTS_SQL, (*scope, 3)))
        if len(figures["product"]["body"]["hotspots"]) != hotspots:
            raise SystemExit("the report's hotspots disagree with the bare aggregate")
        if buckets != sum(1 for point in figures["product"]["body"]["trend"] if point["audits"]):
            raise SystemExit("the report's trend disagrees with the bare aggregate")

    print(
        f"  measured (real HTTP to a uvicorn process on 127.0.0.1, as the admin, {first} to {last}: a {period}ly "
        f"trend of {len(starts)} buckets ({buckets} with audits); one warm-up, median of {args.runs}):"
    )
    for by, f in figures.items():
        three = f["sql"] + trend_s + hotspots_s
        body = f["body"]
        print(
            f"    by={by:<9} HTTP {h.ms(f['http'])} ({len(body['rows'])} rows, {len(body['hotspots'])} hotspots, "
            f"{f['bytes']:,} B); bare GROUP BY {h.ms(f['sql'])}; ratio HTTP/SQL {f['http'] / f['sql']:.2f}; "
            f"to the endpoint's three statements bare ({h.ms(three)}) {f['http'] / three:.2f}"
        )
    print(f"    bare trend statement {h.ms(trend_s)}, bare hotspots statement {h.ms(hotspots_s)}")


if __name__ == "__main__":
    asyncio.run(main())
