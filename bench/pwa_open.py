"""Opening the PWA: the JavaScript shipped to open it (gzipped) and the time until Today is usable offline.

(a) Bytes: the scripts and modulepreloads `pwa/dist/index.html` loads, plus every chunk they import statically,
each gzipped at level 9 (Python's gzip), against the issue's target of 150 kB of JavaScript including the map;
the stylesheets beside them; Leaflet (bundled in the main chunk) gzipped from `node_modules` as a reference.

(b) Time: the real server with the demo data on 127.0.0.1, Debian's Chromium (390x844 phone context), rep1 logged
in and synced, the service worker in control; then no network at all, and N reloads, each timed from navigation
start to the first stop of today's route on screen. Baseline: DOMContentLoaded of the same reload (what the
browser needs before any app code runs).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import platform
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bench._harness import percentile
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DIST, PHONE, Server, go_offline, login

PWA = Path(__file__).resolve().parents[1] / "pwa"
REP = "rep1@demofoods.example"
TARGET_KB = 150.0
RELOAD_TIMEOUT_MS = 30_000

# --- (a) bytes ------------------------------------------------------------------------------------------------


class _Entry(HTMLParser):
    """The scripts, module preloads and stylesheets an HTML page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append(str(a["src"]))
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower().split()
            if "modulepreload" in rel:
                self.scripts.append(str(a["href"]))
            elif "stylesheet" in rel:
                self.styles.append(str(a["href"]))


# `import{a as b}from"./x.js"`, `import"./x.js"`, `export*from"./x.js"`; not `import("./x.js")` (lazy).
STATIC_IMPORT = re.compile(r"""(?<![\w$.])(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"']+\.js)["']""")
DYNAMIC_IMPORT = re.compile(r"""(?<![\w$.])import\(\s*["']([^"']+\.js)["']\s*\)""")


def _local(base: Path, url: str, dist: Path) -> Path:
    """The dist file a URL of the page (absolute path) or of a chunk (relative to it) names."""
    url = url.split("?")[0].split("#")[0]
    return (dist / url.lstrip("/")) if url.startswith("/") else (base.parent / url).resolve()


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


@dataclass
class Shipped:
    js: dict[str, tuple[int, int]]  # file -> (raw, gzip -9)
    css: dict[str, tuple[int, int]]
    lazy: dict[str, tuple[int, int]]  # chunks only imported dynamically (not needed to open)
    leaflet: dict[str, tuple[int, int]]  # references from node_modules


def shipped(dist: Path) -> Shipped:
    index = dist / "index.html"
    page = _Entry()
    page.feed(index.read_text())
    todo = [_local(index, s, dist) for s in page.scripts]
    seen: dict[Path, None] = {}
    lazy: dict[Path, None] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        text = path.read_text()
        todo.extend(_local(path, m, dist) for m in STATIC_IMPORT.findall(text))
        lazy.update({_local(path, m, dist): None for m in DYNAMIC_IMPORT.findall(text)})

    def sizes(paths: list[Path]) -> dict[str, tuple[int, int]]:
        out = {}
        for p in paths:
            data = p.read_bytes()
            out[str(p.relative_to(dist)) if p.is_relative_to(dist) else str(p)] = (len(data), gz(data))
        return out

    references = [
        PWA / "node_modules/leaflet/dist/leaflet.js",
        PWA / "node_modules/leaflet.markercluster/dist/leaflet.markercluster.js",
        PWA / "node_modules/leaflet/dist/leaflet.css",
        PWA / "node_modules/leaflet.markercluster/dist/MarkerCluster.css",
        PWA / "node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css",
    ]
    return Shipped(
        js=sizes(list(seen)),
        css=sizes([_local(index, s, dist) for s in page.styles]),
        lazy=sizes([p for p in lazy if p not in seen]),
        leaflet={k.removeprefix(str(PWA) + "/"): v for k, v in sizes([p for p in references if p.exists()]).items()},
    )


def kb(n: int) -> str:
    return f"{n / 1000:,.1f} kB"


def report_bytes(s: Shipped) -> None:
    js_raw, js_gz = sum(r for r, _ in s.js.values()), sum(g for _, g in s.js.values())
    css_raw, css_gz = sum(r for r, _ in s.css.values()), sum(g for _, g in s.css.values())
    print("(a) shipped to open the app (kB = 1,000 bytes; gzip -9 per file, Python's gzip)")
    for name, (raw, g) in sorted(s.js.items()):
        print(f"    {name}: {kb(raw)} raw, {kb(g)} gzipped")
    for name, (raw, g) in sorted(s.css.items()):
        print(f"    {name}: {kb(raw)} raw, {kb(g)} gzipped")
    if s.lazy:
        lazy_gz = sum(g for _, g in s.lazy.values())
        print(f"    lazily imported, not needed to open: {len(s.lazy)} chunks, {kb(lazy_gz)} gzipped")
    print(
        f"  JavaScript: {len(s.js)} file(s), {kb(js_raw)} raw, {kb(js_gz)} gzipped; "
        f"target {TARGET_KB:.0f} kB including the map: {js_gz / 1000 / TARGET_KB:.0%} of it "
        f"({'met' if js_gz / 1000 <= TARGET_KB else 'missed'})"
    )
    print(f"  CSS: {kb(css_raw)} raw, {kb(css_gz)} gzipped; JavaScript + CSS {kb(js_gz + css_gz)} gzipped")
    lf = s.leaflet.get("node_modules/leaflet/dist/leaflet.js")
    mc = s.leaflet.get("node_modules/leaflet.markercluster/dist/leaflet.markercluster.js")
    if lf:
        map_gz = lf[1] + (mc[1] if mc else 0)
        print(
            f"  reference, the map's libraries minified by their authors (bundled in the main chunk): leaflet.js "
            f"{kb(lf[0])} raw / {kb(lf[1])} gzipped"
            + (f", leaflet.markercluster.js {kb(mc[0])} / {kb(mc[1])}" if mc else "")
            + f"; about {map_gz / js_gz:.0%} of the JavaScript; the rest of the app about {kb(js_gz - map_gz)}"
        )
    css_refs = [(k, v) for k, v in s.leaflet.items() if k.endswith(".css")]
    if css_refs:
        print(
            "  reference, their stylesheets (in the CSS bundle): "
            + ", ".join(f"{Path(k).name} {kb(g)}" for k, (_, g) in css_refs)
            + " gzipped"
        )


# --- (b) time to Today, offline -------------------------------------------------------------------------------

# Runs before the page's own scripts on every navigation: notes performance.now() when the app shell, the first
# stop of the route and the empty message first have a layout box, and the animation frame after the stop.
MARKS = """
(() => {
  const marks = (window.__benchMarks = {});
  const visible = (el) => el && el.getClientRects().length > 0;
  const check = () => {
    const now = performance.now();
    if (marks.today === undefined && visible(document.querySelector('[data-testid=today]'))) marks.today = now;
    if (marks.empty === undefined && visible(document.querySelector('[data-testid=today] .empty'))) marks.empty = now;
    if (marks.stop === undefined && visible(document.querySelector('[data-testid=stop]'))) {
      marks.stop = now;
      requestAnimationFrame(() => { marks.stopFrame = performance.now(); });
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
  document.addEventListener('DOMContentLoaded', () => { marks.dcl = performance.now(); check(); });
})();
"""

READ = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    ...window.__benchMarks,
    dclStart: nav.domContentLoadedEventStart,
    interactive: nav.domInteractive,
    responseEnd: nav.responseEnd,
    scriptEnd: Math.max(0, ...performance.getEntriesByType('resource')
      .filter((e) => e.initiatorType === 'script').map((e) => e.responseEnd)),
    sw: Boolean(navigator.serviceWorker.controller),
    type: nav.type,
  };
}"""


@dataclass
class Reload:
    dcl: float
    today: float
    stop: float
    frame: float
    response_end: float
    interactive: float
    script_end: float


def reload_once(page: Any, planned: bool) -> Reload:
    page.reload(wait_until="commit", timeout=RELOAD_TIMEOUT_MS)
    done = "window.__benchMarks && window.__benchMarks.stopFrame !== undefined"
    if not planned:  # nothing planned today: the empty message is all Today shows
        done = "window.__benchMarks && window.__benchMarks.empty !== undefined"
    page.wait_for_function(done, timeout=RELOAD_TIMEOUT_MS, polling=100)
    m = page.evaluate(READ)
    if not m["sw"] or m["type"] != "reload":
        raise SystemExit(f"pwa_open: reload not served under the service worker: {m}")
    stop = m["stop"] if planned else m["empty"]
    frame = m["stopFrame"] if planned else m["empty"]
    return Reload(m["dclStart"], m["today"], stop, frame, m["responseEnd"], m["interactive"], m["scriptEnd"])


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):,.0f} ms, p95 {percentile(values, 95):,.0f} ms "
        f"(min {min(values):,.0f}, max {max(values):,.0f})"
    )


def measure_open(reloads: int, warmups: int, keep: str) -> None:
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        data_dir = Path(keep) if keep else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-open-")))
        data_dir.mkdir(parents=True, exist_ok=True)
        server = Server(data_dir)
        started = time.perf_counter()
        server.cli("migrate")
        server.cli("demo", "--if-empty")
        server.start()
        stack.callback(server.stop)
        print(f"  setup: server with the demo data on {server.url} ({time.perf_counter() - started:.1f} s)")

        p = stack.enter_context(sync_playwright())
        # A profile on disk, as on a phone (an incognito-like context keeps IndexedDB and the caches in memory).
        profile_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-chromium-"))
        context = p.chromium.launch_persistent_context(
            profile_dir,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": PHONE["width"], "height": PHONE["height"]},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            base_url=server.url,
            geolocation={"latitude": 31.23, "longitude": 121.47, "accuracy": 10},
            permissions=["geolocation", "notifications"],
            service_workers="allow",
        )
        stack.callback(context.close)
        context.add_init_script(MARKS)
        page = context.pages[0] if context.pages else context.new_page()
        started = time.perf_counter()
        login(page, REP)  # waits for window.__fieldbook.synced() and the service worker's control
        tables = page.evaluate(
            """async () => {
                const counts = {};
                const rows = await window.__fieldbook.internals.db().rows.toArray();
                for (const r of rows) counts[r.t] = (counts[r.t] ?? 0) + 1;
                return counts;
            }"""
        )
        rows = f"{sum(tables.values()):,} rows (" + ", ".join(f"{n} {t}" for t, n in sorted(tables.items())) + ")"
        try:
            page.wait_for_selector("[data-testid=stop]", timeout=5_000)
            planned = True
        except Exception:  # a day off: the demo works Monday to Saturday
            planned = False
        stops = page.locator("[data-testid=stop]").count()
        print(
            f"  logged in as {REP}, first sync done, service worker in control ({time.perf_counter() - started:.1f} "
            f"s); replica {rows}; today's route {stops} stops"
            + (
                ""
                if planned
                else (
                    " (nothing planned today: timing the empty message instead, a lower bound: Today shows it before "
                    "its data is read too)"
                )
            )
        )

        go_offline(context)
        for _ in range(warmups):
            first = reload_once(page, planned)
        if warmups:
            print(
                f"  warm-up reload (untimed, the first offline): DOMContentLoaded {first.dcl:,.0f} ms, "
                f"{'first stop' if planned else 'empty message'} {first.frame:,.0f} ms"
            )
        runs = [reload_once(page, planned) for _ in range(reloads)]

    what = "first stop on screen (the frame after it is in the DOM)" if planned else "the empty message"
    dcl = [r.dcl for r in runs]
    usable = [r.frame for r in runs]
    ratios = [r.frame / r.dcl for r in runs]
    print(f"(b) Today usable offline, {reloads} reloads from navigation start (performance.now() in the page)")
    print(f"  shell response from the service worker (responseEnd): {spread([r.response_end for r in runs])}")
    print(f"  shell parsed (domInteractive): {spread([r.interactive for r in runs])}")
    print(f"  main chunk received from the service worker (its responseEnd): {spread([r.script_end for r in runs])}")
    print(
        f"  baseline DOMContentLoaded (the main chunk compiled and its top level run: module scripts run before "
        f"it): {spread(dcl)}"
    )
    print(f"  app shell (`[data-testid=today]` laid out): {spread([r.today for r in runs])}")
    if planned:
        print(f"  first stop in the DOM: {spread([r.stop for r in runs])}")
    print(f"  Today usable, {what}: {spread(usable)}")
    print(
        f"  ratio Today usable / DOMContentLoaded: median of ratios {statistics.median(ratios):.2f}, ratio of "
        f"medians {statistics.median(usable) / statistics.median(dcl):.2f}; after DOMContentLoaded the app needs "
        f"a median {statistics.median([r.frame - r.dcl for r in runs]):,.0f} ms more"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reloads", type=int, default=15, help="timed offline reloads (default 15)")
    p.add_argument("--warmups", type=int, default=1, help="untimed offline reloads first (default 1)")
    p.add_argument("--bytes-only", action="store_true", help="only (a), no server and no browser")
    p.add_argument("--keep", metavar="DIR", default="", help="keep the server's data folder in DIR (default: temp)")
    args = p.parse_args()
    if not (DIST / "index.html").is_file() or not (DIST / "sw.js").is_file():
        raise SystemExit("pwa_open: the PWA is not built: cd pwa && npm run build")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"pwa_open: Python {platform.python_version()}; {os.cpu_count()} cores, load average {load} before the run; "
        f"server and browser share this machine; {DIST}"
    )
    report_bytes(shipped(DIST))
    if args.bytes_only:
        return
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"pwa_open: {CHROMIUM} is missing (apt-get install chromium); never download one")
    measure_open(args.reloads, args.warmups, args.keep)


if __name__ == "__main__":
    main()
