"""Migrations build exactly the tables the models describe; writes are durable on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from backend import db
from backend.piccolo_app import APP_CONFIG


async def columns_in_database() -> dict[str, dict[str, bool]]:
    """{table: {column: nullable}} as the database reports it."""
    engine = db.current_engine()
    found: dict[str, dict[str, bool]] = {}
    for table in APP_CONFIG.table_classes:
        name = table._meta.tablename
        if db.is_sqlite(engine):
            rows = await engine.run_ddl(f'PRAGMA table_info("{name}")')
            found[name] = {r["name"]: not r["notnull"] and not r["pk"] for r in rows}
        else:
            rows = await table.raw(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = {}", name
            ).run()
            found[name] = {r["column_name"]: r["is_nullable"] == "YES" for r in rows}
    return found


async def test_migrations_from_scratch_match_the_models(app):
    expected = {
        table._meta.tablename: {c._meta.db_column_name: bool(c._meta.null) for c in table._meta.columns}
        for table in APP_CONFIG.table_classes
    }
    assert await columns_in_database() == expected


async def test_migrating_again_changes_nothing(app):
    before = await columns_in_database()
    await db.migrate()
    assert await columns_in_database() == before


async def test_unique_keys_exist(world):
    """The cross-column unique keys hold in the database itself, not only in the services."""
    from backend.stores.tables import Store

    store = await Store.select().where(Store.id == world.own.ids["store"]).first().run()
    duplicate = {k: v for k, v in store.items() if k not in ("id",)}
    from backend.tables_base import new_id

    with pytest.raises(Exception, match=r"(?i)unique"):
        await Store.insert(Store(id=new_id(), **duplicate)).run()


async def test_sqlite_runs_wal_with_synchronous_full(app):
    engine = db.current_engine()
    if not db.is_sqlite(engine):
        pytest.skip("SQLite only")
    assert (await engine.run_ddl("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
    assert (await engine.run_ddl("PRAGMA synchronous"))[0]["synchronous"] == 2  # FULL
    assert (await engine.run_ddl("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1
    async with db.write_transaction():
        assert (await engine.run_ddl("PRAGMA synchronous"))[0]["synchronous"] == 2


async def test_sqlite_write_transactions_take_the_write_lock_at_begin(app):
    """IMMEDIATE: another writer is held off from BEGIN, before the first write, so no deadlock can arise."""
    engine = db.current_engine()
    if not db.is_sqlite(engine):
        pytest.skip("SQLite only")

    def other_writer_can_begin() -> bool:
        other = sqlite3.connect(engine.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        finally:
            other.close()

    async with db.write_transaction():
        await engine.run_ddl("SELECT 1")  # no write yet
        assert not await asyncio.to_thread(other_writer_can_begin)
    assert await asyncio.to_thread(other_writer_can_begin)


async def test_postgres_commits_synchronously(app):
    engine = db.current_engine()
    if db.is_sqlite(engine):
        pytest.skip("PostgreSQL only")
    rows: list[dict[str, Any]] = await engine.run_ddl("SHOW synchronous_commit")
    assert rows[0]["synchronous_commit"] == "on"
    async with db.write_transaction():
        rows = await engine.run_ddl("SHOW synchronous_commit")
        assert rows[0]["synchronous_commit"] == "on"


async def test_a_failed_write_transaction_leaves_nothing(world):
    from backend.catalog.tables import Product
    from backend.tables_base import new_id

    before = await Product.count().run()
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await Product.insert(
                Product(id=new_id(), org_id=world.own.org_id, code="TX-1", name="n", brand="b", category="c")
            ).run()
            raise RuntimeError("crash in the middle")
    assert await Product.count().run() == before
