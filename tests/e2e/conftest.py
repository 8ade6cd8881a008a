"""End-to-end fixtures: the real server in its own process on 127.0.0.1 with the demo data, and Debian's
Chromium driven by Playwright (never a downloaded browser).

The PWA must be built (`make test` builds it first; `cd pwa && npm run build` by hand). Screenshots go to
`test-artifacts/screenshots/` at the repository's root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "pwa" / "dist"
CHROMIUM = "/usr/bin/chromium"
# This machine's closed network refuses Chromium's own background connections; these flags keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
PASSWORD = "fieldbook-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`fieldbook serve` in a subprocess on its own SQLite database; `stop()`/`start()` keep the database."""

    data_dir: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "fieldbook.sqlite3"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOOK_")}
        env.update(
            FIELDBOOK_DATA_DIR=str(self.data_dir),
            FIELDBOOK_PWA_DIST=str(DIST),
            FIELDBOOK_PORT=str(self.port),
            FIELDBOOK_LOG_LEVEL="warning",
            FIELDBOOK_LOGIN_MAX_FAILURES_PER_IP="10000",
        )
        return env

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "backend.cli", *args], env=self.env(), cwd=ROOT, capture_output=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"fieldbook {' '.join(args)} failed:\n{done.stderr.decode()}")
        return done.stdout.decode()

    def start(self) -> None:
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve"], env=self.env(), cwd=ROOT, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.data_dir / "server.log").read_text())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def token(self, email: str) -> str:
        answer = httpx.post(f"{self.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def get(self, email: str, path: str, **params: Any) -> Any:
        answer = httpx.get(
            f"{self.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {self.token(email)}"}
        )
        answer.raise_for_status()
        return answer.json()


@pytest.fixture(scope="session")
def built_pwa() -> Path:
    if not (DIST / "index.html").is_file() or not (DIST / "sw.js").is_file():
        pytest.fail("The PWA is not built: run `make test` (or `cd pwa && npm run build`).")
    return DIST


@pytest.fixture(scope="session")
def demo_data(built_pwa: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the migrated database and the demo organisation, made once per session (the demo
    takes half a minute); each module's server starts from a copy of it."""
    data_dir = tmp_path_factory.mktemp("e2e-demo")
    template = Server(data_dir)
    template.cli("migrate")
    template.cli("demo", "--if-empty")
    return data_dir


@pytest.fixture(scope="module")
def server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the demo organisation, one per test module (its own copy of the database)."""
    data_dir = tmp_path_factory.mktemp("e2e-server")
    shutil.copytree(demo_data, data_dir, dirs_exist_ok=True)
    srv = Server(data_dir)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API runs its event loop on this thread
    while it is started, and the asyncio tests collected after tests/e2e would find it running."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_phone(browser: Any, server: Server) -> Iterator[Any]:
    """Makes phone-sized browser contexts (each its own device: storage, service worker, position)."""
    contexts: list[Any] = []

    def make(
        *,
        lat: float = 31.23,
        lng: float = 121.47,
        accuracy: float = 10,
        locale: str = "en-GB",
        timezone: str | None = None,
    ) -> Any:
        context = browser.new_context(
            timezone_id=timezone,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            base_url=server.url,
            geolocation={"latitude": lat, "longitude": lng, "accuracy": accuracy},
            permissions=["geolocation", "notifications"],
            service_workers="allow",
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def login(page: Any, email: str) -> None:
    """Log in through the form and wait until the first sync has finished and the service worker controls."""
    page.goto("/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=today]")
    wait_synced(page)
    page.evaluate("navigator.serviceWorker.ready")
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        page.reload()
        page.wait_for_selector("[data-testid=today]")
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")


def wait_until(page: Any, predicate: str, arg: Any = None, timeout_ms: int = 30_000, what: str = "") -> None:
    """Until the (possibly async) JavaScript function `predicate(arg)` is truthy, polled in the page every 100 ms.

    Playwright's `wait_for_function` does not await a promise (an async predicate is truthy at once), hence this.
    """
    ok = page.evaluate(
        f"""async ([arg, timeout]) => {{
            const predicate = ({predicate});
            const end = Date.now() + timeout;
            for (;;) {{
                try {{
                    if (await predicate(arg)) return true;
                }} catch (err) {{
                    // not ready yet (the app is still starting): tried again
                }}
                if (Date.now() > end) return false;
                await new Promise((resolve) => setTimeout(resolve, 100));
            }}
        }}""",
        [arg, timeout_ms],
    )
    assert ok, f"timed out after {timeout_ms} ms waiting for {what or predicate}"


def wait_synced(page: Any, timeout_ms: int = 60_000) -> None:
    """Until a sync has succeeded and nothing is waiting to be sent."""
    wait_until(
        page,
        """async () => {
            const el = document.querySelector('[data-testid=sync-indicator]');
            return el && el.dataset.state === 'idle' && el.dataset.pending === '0' && await window.__fieldbook.synced();
        }""",
        timeout_ms=timeout_ms,
        what="the app to be synced",
    )


def sync_now(page: Any) -> None:
    page.evaluate("window.__fieldbook.sync()")
    wait_synced(page)


def go_offline(context: Any) -> None:
    """No network at all: the browser is offline and every request (the service worker's too) is refused."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def go_online(context: Any) -> None:
    context.unroute("**/*")
    context.set_offline(False)


def first_stop(server: Server, email: str) -> dict[str, Any]:
    """The first stop of the rep's plan for today with its store's position (`planned` True); on a day without a
    plan (the demo plans Monday to Saturday) the rep's first store, for an unplanned visit (`planned` False)."""
    me = server.get(email, "/me")
    today = dt.datetime.now(ZoneInfo(me["user"]["time_zone"] or me["organization"]["time_zone"])).date()
    plans = server.get(email, "/planning/plans", date_from=today.isoformat(), date_to=today.isoformat())
    stops = [stop for plan in plans for stop in server.get(email, f"/planning/plans/{plan['id']}")["stops"]]
    if stops:
        return {**min(stops, key=lambda s: s["seq"]), "planned": True}
    store = server.get(email, "/stores", limit=1)["items"][0]
    return {"store_id": store["id"], "lat": store["lat"], "lng": store["lng"], "planned": False}


def db_rows(server: Server, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(server.database)) as conn:
        return list(conn.execute(sql, args))


def copy_artifact(src: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, ARTIFACTS / name)
