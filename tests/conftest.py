"""Shared fixtures: one fresh database and app per test module, real HTTP through the ASGI app.

The database is a temporary SQLite file, or a fresh PostgreSQL database created for the module when
FIELDBOOK_TEST_DATABASE_URL points at a PostgreSQL server (CI sets it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

import backend  # noqa: F401  (sets PICCOLO_CONF before any table is imported)
from backend import db
from backend.app import create_app
from backend.settings import Settings, settings_from_env
from tests.world import World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
PG_URL = os.environ.get("FIELDBOOK_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"app", "database_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _with_database(url: str, name: str) -> str:
    parts = httpx.URL(url)
    return str(parts.copy_with(path=f"/{name}"))


@pytest_asyncio.fixture(scope="module")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if not PG_URL:
        path = tmp_path_factory.mktemp("db") / "fieldbook.sqlite3"
        yield f"sqlite:///{path}"
        return
    import asyncpg

    name = f"fb_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _with_database(PG_URL, name)
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Test settings: a fixed secret, the test client's host allowed; override per module as needed."""
    values: dict[str, object] = {
        "data_dir": str(data_dir),
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "allowed_hosts": ["testserver.local", "localhost", "127.0.0.1"],
        "pwa_dist": str(data_dir / "no-pwa"),
    }
    return settings_from_env({}, **{**values, **overrides})


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("data"))


@pytest_asyncio.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[object]:
    # The app's lifespan only starts and stops the database; it is done here directly because pytest-asyncio
    # sets up and tears down a fixture in different tasks, which Litestar's lifespan task group refuses.
    application = create_app(settings)
    engine = db.current_engine()
    await db.start(engine)
    try:
        await db.migrate()
        yield application
    finally:
        await db.stop(engine)


@pytest_asyncio.fixture(scope="module")
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest_asyncio.fixture(scope="module")
async def world(app: object, client: httpx.AsyncClient) -> World:
    """Two organisations with every role, territories, stores, products and assortments; tokens per user."""
    return await build_world(client)
