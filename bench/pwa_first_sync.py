"""A first sync applied to IndexedDB in Chromium: 500 stores and 2,000 products through the PWA's `applyPulled`.

The built app (`pwa/dist`) is opened in Debian's Chromium from a static server on 127.0.0.1 (nobody logs in; every
`/api/` request is refused and counted). In the page, through `window.__fieldbook.internals`, each run opens a
fresh database, sets a session in it and applies the changes a first sync delivers, generated in the page: every
column of every store (the columns of `STORE` in backend/sync_api/registry.py, `_cl` included) and every product
(`PRODUCT`), one change each, stamped `WWWWWWWWWWWW-CCCC` by node "server", in pages of 5,000 changes (the
server's default page size). Baseline, same page, same run: a bare Dexie `bulkPut` of the same rows as the replica
stores them (one record per row with all its field versions) into a fresh database of the same schema. Extra:
`replicaChecksum()` over the result, and the same first sync in pages of 2,000 (the limit the PWA's sync client
asks for).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DIST, PHONE

PWA = Path(__file__).resolve().parents[1] / "pwa"
RUN_TIMEOUT_MS = 120_000

# The page's side: data generation, one timed run of each kind, a check, a profile hook. Deterministic (seeded).
PAGE_JS = r"""
(() => {
  const I = window.__fieldbook.internals;
  const rng = (seed) => () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (r, n) => { let s = ''; for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16); return s; };
  const uuid = (r) =>
    `${hex(r, 8)}-${hex(r, 4)}-7${hex(r, 3)}-${'89ab'[Math.floor(r() * 4)]}${hex(r, 3)}-${hex(r, 12)}`;
  const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
  const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const CHAINS = ['Lianhua', 'Hualian', 'Carrefour', 'RT-Mart', 'FamilyMart', 'Lawson', 'Wumart', 'Yonghui', null];
  const CHANNELS = ['hypermarket', 'supermarket', 'convenience', 'traditional', 'pharmacy', 'wholesale', 'horeca'];
  const DISTRICTS = ["Huangpu", "Xuhui", "Changning", "Jing'an", "Putuo", "Hongkou", "Yangpu", "Pudong", "Minhang"];
  const STREETS = ['Nanjing Road', 'Huaihai Road', 'Yan\'an Road', 'Century Avenue', 'Hengshan Road', 'Siping Road'];
  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const BRANDS = ['Fieldfresh', 'Golden Hill', 'Blue Lake', 'Sunny Farm', 'Jade River', 'Red Lantern', 'Morning Dew'];
  const CATEGORIES = ['Dairy', 'Beverages', 'Snacks', 'Noodles', 'Condiments', 'Frozen', 'Personal care', 'Household'];
  const PACKS = ['250 ml', '500 ml', '1 l', '1.5 l', '100 g', '200 g', '500 g', '1 kg', '6 x 330 ml', '12 pcs'];

  function hours(r) {
    const kind = r();
    if (kind < 0.1) return null;
    const out = {};
    for (const d of DAYS) {
      if (d === 'sun' && r() < 0.3) continue;
      if (kind < 0.35) out[d] = [['08:30', '12:00'], ['13:30', '20:00']];
      else if (kind < 0.5) out[d] = [['00:00', '24:00']];
      else out[d] = [[pick(r, ['07:00', '08:00', '09:00', '10:00']), pick(r, ['21:00', '22:00', '22:30'])]];
    }
    return out;
  }
  function fence(r, lat, lng) {
    if (r() < 0.85) return { kind: 'circle', radius_m: pick(r, [50, 75, 100, 150, 200]) };
    const d = 0.0008, ring = [[lng - d, lat - d], [lng + d, lat - d], [lng + d, lat + d], [lng - d, lat + d]];
    ring.push(ring[0]);
    return { kind: 'polygon', polygon: { type: 'Polygon', coordinates: [ring] } };
  }
  function frequency(r) {
    if (r() < 0.6) {
      const days = DAYS.slice(0, 6).filter(() => r() < 0.3);
      return { kind: 'weekly', weekdays: days.length ? days : ['mon'], every_weeks: pick(r, [1, 1, 1, 2, 4]) };
    }
    return { kind: 'monthly', times: int(r, 1, 4), weekdays: r() < 0.5 ? [] : [pick(r, DAYS.slice(0, 5))] };
  }
  function store(r, n, rep, territory) {
    const lat = +(31.1 + r() * 0.25).toFixed(6), lng = +(121.3 + r() * 0.35).toFixed(6);
    const chain = pick(r, CHAINS), district = pick(r, DISTRICTS);
    return {
      _cl: 1,
      code: `S${String(n + 1).padStart(5, '0')}`,
      name: `${chain ?? 'Corner shop'} ${district} ${n + 1}`,
      chain,
      channel: pick(r, CHANNELS),
      address: `${int(r, 1, 1999)} ${pick(r, STREETS)}`,
      district,
      city: 'Shanghai',
      postcode: String(200000 + int(r, 0, 99) * 10),
      country: 'CN',
      lat, lng,
      geofence: fence(r, lat, lng),
      opening_hours: hours(r),
      visit_frequency: frequency(r),
      visit_minutes: pick(r, [15, 20, 30, 45, 60]),
      min_visit_minutes: pick(r, [0, 5, 10]),
      priority: int(r, 1, 5),
      assigned_rep_id: rep,
      territory_id: territory,
      active: r() < 0.97,
    };
  }
  function product(r, n) {
    const brand = pick(r, BRANDS), category = pick(r, CATEGORIES);
    return {
      _cl: 1,
      code: `P${String(n + 1).padStart(5, '0')}`,
      name: `${brand} ${category.toLowerCase()} ${n + 1}`,
      brand,
      category,
      pack_size: pick(r, PACKS),
      barcode: r() < 0.9 ? `69${String(Math.floor(r() * 1e11)).padStart(11, '0')}` : null,
      rrp_minor: r() < 0.95 ? int(r, 150, 19900) : null,
      own_brand: r() < 0.1,
      active: r() < 0.98,
    };
  }

  // What a first sync delivers: every field of every row, each its own change, stamps increasing like the
  // server's clock (a few per millisecond), as `record_rows` writes them; and the same rows as replica records.
  function generate({ stores, products, seed, pageSizes }) {
    const r = rng(seed);
    const rep = uuid(r), territories = [uuid(r), uuid(r), uuid(r)];
    let wall = Date.now() - 86_400_000, counter = 0;
    const stamp = () => {
      if (++counter > 20) { wall += 1; counter = 0; }
      return `${wall.toString(16).padStart(12, '0')}-${counter.toString(16).padStart(4, '0')}`;
    };
    const changes = [], records = [];
    const add = (table, values) => {
      const id = uuid(r), f = {};
      for (const [column, value] of Object.entries(values)) {
        const hlc = stamp();
        changes.push({ table, row: id, column, value, hlc, node: 'server' });
        f[column] = { v: value, h: hlc, n: 'server' };
      }
      records.push({ t: table, id, cl: 1, f });
    };
    for (let n = 0; n < stores; n++) add('store', store(r, n, rep, pick(r, territories)));
    for (let n = 0; n < products; n++) add('product', product(r, n));
    const pages = {};
    for (const size of pageSizes) {
      pages[size] = [];
      for (let i = 0; i < changes.length; i += size) pages[size].push(changes.slice(i, i + size));
    }
    const bytes = new TextEncoder().encode(JSON.stringify(changes)).length;
    return { pages, records, changes: changes.length, bytes, rep };
  }

  const session = (rep) => ({
    token: 'x', expiresAt: '', clientId: 'dev-bench', org: null,
    user: { id: rep, email: 'bench@example.invalid', name: 'Bench', role: 'rep', time_zone: null, locale: null },
  });
  let data = null, serial = 0;
  const original = I.db();

  async function fresh(prefix) {
    const it = new I.FieldbookDB(`bench-${prefix}-${serial++}`);
    await it.open();
    return it;
  }
  async function drop(it) {
    I.useDatabase(original);
    it.close();
    await it.delete();
  }

  window.__bench = {
    generate(options) {
      const t0 = performance.now();
      data = generate(options);
      const pages = Object.fromEntries(Object.entries(data.pages).map(([size, list]) => [size, list.length]));
      return { changes: data.changes, rows: data.records.length, pages, bytes: data.bytes, ms: performance.now() - t0 };
    },
    // One first sync through applyPulled, page by page, and the checksum of the result.
    async apply({ pageSize, check = false, checksum: withChecksum = true }) {
      const it = await fresh('apply');
      I.useDatabase(it);
      await I.setMeta('session', session(data.rep));
      const perPage = [];
      let changed = 0;
      const t0 = performance.now();
      for (const page of data.pages[pageSize]) {
        const p0 = performance.now();
        changed += await I.applyPulled(page, []);
        perPage.push(performance.now() - p0);
      }
      const t1 = performance.now();
      const checksum = withChecksum ? await I.replicaChecksum() : null;
      const t2 = performance.now();
      const out = { ms: t1 - t0, perPage, checksumMs: t2 - t1, checksum, changed, rows: await it.rows.count() };
      if (check) out.problems = await compare(it);
      await drop(it);
      return out;
    },
    // The baseline: the same rows, as the replica stores them, in one bulkPut into a fresh database.
    async put() {
      const it = await fresh('put');
      const t0 = performance.now();
      await it.rows.bulkPut(data.records);
      const t1 = performance.now();
      I.useDatabase(it);
      const checksum = await I.replicaChecksum();
      const rows = await it.rows.count();
      await drop(it);
      return { ms: t1 - t0, checksum, rows };
    },
    // What applyPulled reads before merging, on a first sync: every row of each page looked up (bulkGet) in a
    // database that does not hold it yet.
    async misses({ pageSize }) {
      const it = await fresh('misses');
      const t0 = performance.now();
      for (const page of data.pages[pageSize]) {
        const keys = new Map(page.map((c) => [`${c.table}\u001f${c.row}`, [c.table, c.row]]));
        await it.rows.bulkGet([...keys.values()]);
      }
      const ms = performance.now() - t0;
      await drop(it);
      return { ms };
    },
    async leftovers() {
      const names = (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('bench-'));
      for (const name of names) {
        await new Promise((ok) => { const q = indexedDB.deleteDatabase(name); q.onsuccess = q.onerror = ok; });
      }
      return names.length;
    },
  };

  // Every stored record equals what was generated (values compared as JSON, field order aside).
  async function compare(it) {
    const stored = new Map((await it.rows.toArray()).map((r) => [`${r.t}/${r.id}`, r]));
    const problems = [];
    const canon = (x) => JSON.stringify(x, (k, v) => (v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
    for (const record of data.records) {
      const got = stored.get(`${record.t}/${record.id}`);
      if (!got || canon(got) !== canon(record)) problems.push(`${record.t}/${record.id}`);
    }
    return problems.slice(0, 5).concat(problems.length > 5 ? [`... ${problems.length} in all`] : []);
  }
})();
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Any:
    """`root` served on 127.0.0.1 (a free port) from a thread."""
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def unminified_build(into: Path) -> Path:
    """The app built again without minification into `into` (for readable profiles); pwa/dist is left alone."""
    vite = PWA / "node_modules/.bin/vite"
    done = subprocess.run(
        [str(vite), "build", "--minify", "false", "--outDir", str(into), "--emptyOutDir", "--logLevel", "warn"],
        cwd=PWA,
        capture_output=True,
        timeout=180,
    )
    if done.returncode != 0:
        raise SystemExit(f"pwa_first_sync: vite build failed:\n{done.stderr.decode()}")
    return into


def top_functions(profile: dict[str, Any], total_ms: float, count: int = 18) -> list[str]:
    """Self time by function from a CDP CPU profile, largest first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile["timeDeltas"]
    self_us: Counter[str] = Counter()
    for sample, delta in zip(profile["samples"], deltas, strict=True):
        frame = nodes[sample]["callFrame"]
        url = frame["url"].rsplit("/", 1)[-1]
        name = frame["functionName"] or "(anonymous)"
        where = f"{url}:{frame['lineNumber'] + 1}" if url else ("" if name.startswith("(") else "(native)")
        self_us[f"{name} {where}".strip()] += delta
    sampled = sum(self_us.values()) / 1000
    lines = [f"    sampled {sampled:,.0f} ms of the renderer's main thread over {total_ms:,.0f} ms of wall time"]
    for name, us in self_us.most_common(count):
        lines.append(f"    {us / 1000:8,.1f} ms  {us / 1000 / sampled:5.1%}  {name}")
    return lines


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", type=int, default=500, help="stores (default 500)")
    p.add_argument("--products", type=int, default=2000, help="products (default 2,000)")
    p.add_argument("--page", type=int, default=5000, help="changes per page (default 5,000, the server's default)")
    p.add_argument("--client-page", type=int, default=2000, help="extra run in pages of this size (0: none)")
    p.add_argument("--runs", type=int, default=7, help="runs of each, medians reported (default 7)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the generated data (default 2026)")
    p.add_argument(
        "--profile",
        metavar="PATH",
        default="",
        help="after the runs, profile one more applyPulled run (an unminified build of the app, CDP profiler) "
        "and write the .cpuprofile to PATH (open it in DevTools' Performance panel); prints the top functions",
    )
    args = p.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit("pwa_first_sync: the PWA is not built: cd pwa && npm run build")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"pwa_first_sync: {CHROMIUM} is missing (apt-get install chromium); never download one")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"pwa_first_sync: Python {platform.python_version()}; {os.cpu_count()} cores, load average {load} before the "
        f"run; Chromium {CHROMIUM} headless; {args.stores} stores + {args.products} products, {args.runs} runs"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, contextlib.ExitStack() as stack:
        # A profile on disk, as on a phone: an incognito-like context (browser.new_context()) keeps IndexedDB in
        # memory, where every database created and deleted leaves the next runs slower (1.3 to 2.6 times after
        # three rounds here).
        profile_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-chromium-"))
        context = pw.chromium.launch_persistent_context(
            profile_dir,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": PHONE["width"], "height": PHONE["height"]},
            locale="en-GB",
            service_workers="block",
        )
        stack.callback(context.close)
        refused: Counter[str] = Counter()

        def refuse(route: Any) -> None:
            refused[route.request.url.split("?")[0].split("/api/", 1)[-1]] += 1
            route.abort()

        context.route("**/api/**", refuse)

        def open_app(root: Path) -> Any:
            base = stack.enter_context(static_server(root))
            page = context.new_page()
            page.goto(f"{base}/", wait_until="load")
            page.wait_for_function("window.__fieldbook && window.__fieldbook.internals", timeout=30_000)
            page.wait_for_selector("#email", timeout=30_000)  # the app is up, nobody logged in
            page.evaluate(PAGE_JS)
            page.evaluate("window.__bench.leftovers()")
            return page

        sizes = [args.page] + ([args.client_page] if args.client_page and args.client_page != args.page else [])
        options = {"stores": args.stores, "products": args.products, "seed": args.seed, "pageSizes": sizes}
        main_run = {"pageSize": args.page}
        page = open_app(DIST)
        data = page.evaluate("o => window.__bench.generate(o)", options)
        pages = data["pages"]
        print(
            f"  generated in the page ({data['ms']:,.0f} ms, untimed): {data['changes']:,} changes for "
            f"{data['rows']:,} rows, {data['bytes'] / 1e6:.2f} MB as JSON; "
            + ", ".join(f"{pages[str(n)]} pages of up to {n:,}" for n in sizes)
        )

        # A warm-up of each (untimed), with a check that applyPulled stored exactly the generated rows.
        first = page.evaluate("o => window.__bench.apply(o)", {**main_run, "check": True})
        base = page.evaluate("window.__bench.put()")
        problems = []
        if first["problems"]:
            problems.append(f"stored rows differ from the generated ones: {first['problems']}")
        if first["rows"] != data["rows"] or base["rows"] != data["rows"]:
            problems.append(f"rows: applyPulled {first['rows']} ({first['changed']} changed), bulkPut {base['rows']}")
        if first["checksum"] != base["checksum"]:
            problems.append(f"checksums differ: applyPulled {first['checksum']}, bulkPut {base['checksum']}")
        if problems:
            raise SystemExit("pwa_first_sync: " + "; ".join(problems))
        print(
            f"  warm-up (untimed): applyPulled {first['ms']:,.0f} ms, bulkPut {base['ms']:,.0f} ms; every stored row "
            f"equals the generated one, checksums equal ({first['checksum']})"
        )

        # Interleaved, the order turning each run, so drift (the machine is shared) spreads over all of them.
        runs: dict[str, list[dict[str, Any]]] = {"apply": [], "put": [], "misses": [], "client": []}
        jobs = [
            ("apply", "o => window.__bench.apply(o)", main_run),
            ("put", "() => window.__bench.put()", None),
            ("misses", "o => window.__bench.misses(o)", main_run),
        ]
        if len(sizes) > 1:
            jobs.append(("client", "o => window.__bench.apply(o)", {"pageSize": args.client_page}))
        for i in range(args.runs):
            for name, script, arg in jobs[i % len(jobs) :] + jobs[: i % len(jobs)]:
                runs[name].append(page.evaluate(script, arg))

        profile_lines: list[str] = []
        if args.profile:
            build = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-pwa-unminified-")))
            started = time.perf_counter()
            prof_page = open_app(unminified_build(build))
            prof_page.evaluate("o => window.__bench.generate(o)", options)
            prof_page.evaluate("o => window.__bench.apply(o)", main_run)  # warm-up
            cdp = prof_page.context.new_cdp_session(prof_page)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 500})
            cdp.send("Profiler.start")
            profiled = prof_page.evaluate("o => window.__bench.apply(o)", {**main_run, "checksum": False})
            profile = cdp.send("Profiler.stop")["profile"]
            Path(args.profile).write_text(json.dumps(profile))
            profile_lines = [
                f"  profile of one applyPulled run ({profiled['ms']:,.0f} ms; unminified build made in "
                f"{time.perf_counter() - started:.0f} s), self time by function, written to {args.profile}:",
                *top_functions(profile, profiled["ms"]),
            ]
            shutil.rmtree(build, ignore_errors=True)

        left = page.evaluate("window.__bench.leftovers()")

    report(args, data, runs, refused, left)
    for line in profile_lines:
        print(line)


def report(
    args: argparse.Namespace,
    data: dict[str, Any],
    runs: dict[str, list[dict[str, Any]]],
    refused: Counter[str],
    left: int,
) -> None:
    changes, rows = data["changes"], data["rows"]
    apply_ms = [r["ms"] for r in runs["apply"]]
    put_ms = [r["ms"] for r in runs["put"]]
    a, b = median(apply_ms), median(put_ms)
    pages = data["pages"][str(args.page)]
    per_page = [median([r["perPage"][i] for r in runs["apply"]]) for i in range(pages)]
    print(f"first sync into IndexedDB, medians of {args.runs} runs, fresh databases (deleted after each):")
    print(
        f"  applyPulled, {pages} pages of {args.page:,}: {a:,.0f} ms (min {min(apply_ms):,.0f}, "
        f"max {max(apply_ms):,.0f}) = {changes / a * 1000:,.0f} changes/s, {rows / a * 1000:,.0f} rows/s"
    )
    print(f"    per page: {', '.join(f'{x:,.0f}' for x in per_page)} ms")
    print(
        f"  baseline, a bare bulkPut of the {rows:,} row records in one call: {b:,.0f} ms (min {min(put_ms):,.0f}, "
        f"max {max(put_ms):,.0f}) = {rows / b * 1000:,.0f} rows/s"
    )
    print(
        f"  ratio applyPulled / bulkPut: {a / b:.2f} (median of the per-run ratios "
        f"{median([x / y for x, y in zip(apply_ms, put_ms, strict=True)]):.2f})"
    )
    m = median([r["ms"] for r in runs["misses"]])
    print(
        f"    of which, estimated: looking up rows not there yet (bulkGet of each page's rows in an empty database): "
        f"{m:,.0f} ms ({m / a:.0%} of applyPulled); without it the ratio would be about {(a - m) / b:.2f}"
    )
    print(f"  replicaChecksum() over the {rows:,} rows: {median([r['checksumMs'] for r in runs['apply']]):,.0f} ms")
    if runs["client"]:
        c = median([r["ms"] for r in runs["client"]])
        print(
            f"  the same in {data['pages'][str(args.client_page)]} pages of {args.client_page:,} (the limit the "
            f"PWA's sync client asks for): {c:,.0f} ms = {changes / c * 1000:,.0f} changes/s (ratio to bulkPut "
            f"{c / b:.2f})"
        )
    if sum(refused.values()) or left:
        print(f"  note: refused API requests {dict(refused)}; benchmark databases left over and deleted: {left}")


if __name__ == "__main__":
    main()
