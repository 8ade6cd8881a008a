"""The server hands out the built PWA with the cache headers an offline app needs (backend/pwa.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from backend import db
from backend.app import create_app
from backend.settings import Settings
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    dist = data_dir / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "icons").mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Fieldbook</title>")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (dist / "manifest.webmanifest").write_text('{"name": "Fieldbook"}')
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "icons" / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (data_dir / "secret.txt").write_text("not for the web")
    return make_settings(database_url, data_dir, pwa_dist=str(dist))


@pytest_asyncio.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    engine = db.current_engine()
    await db.start(engine)
    try:
        await db.migrate()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield http
    finally:
        await db.stop(engine)


async def test_hashed_assets_are_immutable(client: httpx.AsyncClient) -> None:
    answer = await client.get("/assets/index-abc123.js")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("path", ["/", "/index.html", "/sw.js", "/manifest.webmanifest"])
async def test_entry_points_are_revalidated_on_every_load(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-cache"


async def test_the_service_worker_may_control_the_whole_app(client: httpx.AsyncClient) -> None:
    answer = await client.get("/sw.js")
    assert answer.headers["service-worker-allowed"] == "/"
    assert answer.headers["content-type"].startswith("text/javascript")


async def test_the_manifest_has_its_media_type(client: httpx.AsyncClient) -> None:
    answer = await client.get("/manifest.webmanifest")
    assert answer.headers["content-type"].startswith("application/manifest+json")


@pytest.mark.parametrize("path", ["/stores/0193", "/reminders/01936f00-0000-7000-8000-000000000000", "/settings"])
async def test_app_paths_answer_with_the_app(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    assert "<title>Fieldbook</title>" in answer.text
    assert answer.headers["cache-control"] == "no-cache"


async def test_unknown_api_paths_stay_problem_json(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_missing_asset_is_a_404_not_the_app(client: httpx.AsyncClient) -> None:
    """An old page asking for a file of an older build must not get index.html as its JavaScript."""
    answer = await client.get("/assets/index-old999.js")
    assert answer.status_code == 404


@pytest.mark.parametrize("path", ["/..%2fsecret.txt", "/%2e%2e/secret.txt", "/icons/..%2f..%2fsecret.txt"])
async def test_files_outside_the_build_are_never_served(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert "not for the web" not in answer.text


def test_dist_layout_matches_what_vite_builds() -> None:
    """The PWA build writes the files this module expects (checked when the PWA is built)."""
    dist = Path(__file__).resolve().parents[2] / "pwa" / "dist"
    if not (dist / "index.html").is_file():
        pytest.skip("the PWA is not built here")
    assert (dist / "sw.js").is_file()
    assert (dist / "manifest.webmanifest").is_file()
    assert any((dist / "assets").glob("index-*.js"))
