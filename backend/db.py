"""The database engine: durable SQLite or PostgreSQL, chosen by URL, and the one place tables are bound to it.

Durability (docs/operations.md): SQLite runs in WAL mode with `synchronous=FULL` on every connection, and every
write runs in an IMMEDIATE transaction, because a deferred one that later needs the write lock fails with
"database is locked" under concurrent writers instead of waiting. PostgreSQL runs with `synchronous_commit=on`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.errors import DomainError

SQLITE_BUSY_TIMEOUT_S = 30.0


class DatabaseUrlError(DomainError):
    code = "settings.database_url"


class DurableSQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that sets the durability pragmas as it opens (Piccolo opens one per query)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=FULL")
        self.execute("PRAGMA foreign_keys=ON")


def build_engine(url: str) -> Engine:
    """An engine for `sqlite:///path` (relative) / `sqlite:////abs/path`, or `postgresql://...`."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise DatabaseUrlError(f"SQLite URL needs a file path, like sqlite:///var/fieldbook.sqlite3: {url!r}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=path, factory=DurableSQLiteConnection, timeout=SQLITE_BUSY_TIMEOUT_S)
    if scheme in ("postgres", "postgresql"):
        return PostgresEngine(config={"dsn": url, "server_settings": {"synchronous_commit": "on"}})
    raise DatabaseUrlError(f"Unsupported database URL (use sqlite:/// or postgresql://): {scheme or url!r}")


def is_sqlite(engine: Engine) -> bool:
    return engine.engine_type == "sqlite"


def all_tables() -> list[type[Any]]:
    from piccolo.apps.migrations.tables import Migration

    from backend.piccolo_app import APP_CONFIG

    return [*APP_CONFIG.table_classes, Migration]


def use_engine(engine: Engine) -> Engine:
    """Bind every table, and Piccolo's migration runner, to `engine`.

    Piccolo binds a table to the engine of `piccolo_conf.DB` when the table is first used. The app, the CLI and
    the tests (one fresh database per module) choose the database at run time, so they rebind explicitly here.
    """
    from backend import piccolo_conf

    piccolo_conf.DB = engine
    for table in all_tables():
        table._meta.db = engine
    return engine


def current_engine() -> Engine:
    from backend import piccolo_conf

    return piccolo_conf.DB


# SQLite has one writer. Writers of one process queue here, first come first served, before BEGIN IMMEDIATE:
# SQLite's own busy handler retries with growing sleeps, so under a burst a writer could wait many seconds while
# later ones got in (measured: p99 of a sync push 3.6 s with the busy handler alone, 0.84 s with this queue).
# Keyed by database file and event loop (a lock belongs to one loop; tests run one loop per module).
_sqlite_writers: dict[tuple[str, int], asyncio.Lock] = {}


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for writes: IMMEDIATE on SQLite (take the write lock up front, after this process's earlier
    writers), plain on PostgreSQL. Nested, it joins the outer transaction."""
    engine = current_engine()
    if not isinstance(engine, SQLiteEngine):
        async with engine.transaction():
            yield
        return
    if engine.current_transaction.get() is not None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    queue = _sqlite_writers.setdefault((engine.path, id(asyncio.get_running_loop())), asyncio.Lock())
    async with queue, engine.transaction(transaction_type=TransactionType.immediate):
        yield


@asynccontextmanager
async def read_transaction() -> AsyncIterator[None]:
    """A transaction whose reads all see one snapshot: REPEATABLE READ on PostgreSQL (READ COMMITTED would give
    each statement its own), a plain read transaction on SQLite (WAL keeps its snapshot, takes no write lock)."""
    engine = current_engine()
    async with engine.transaction():
        if not is_sqlite(engine):
            await engine.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def json_value(raw: Any) -> Any:
    """A JSON column's value as read: Piccolo hands JSON columns back as text (both databases, and raw SQL
    always does), a row built in Python holds it decoded; either way, the decoded value."""
    return msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw


def _placeholders(sql: str, engine: Engine) -> str:
    """`{}` placeholders (Piccolo's raw style) in the driver's own style: `?` for sqlite3, `$1...` for asyncpg."""
    if is_sqlite(engine):
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


def _connection(engine: Engine) -> Any:
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("db.executemany and db.fetch run inside a transaction")
    return transaction.connection


async def executemany(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement once per argument row, in the driver's own batch call, on the current transaction.

    For the hot paths of a sync push: Piccolo's query builder inspects every argument and SQLite runs a PRAGMA
    before every statement, which cost more than the database itself for a push of thousands of values
    (bench/sync_ingest.py). Values are adapted as Piccolo would (its sqlite3 adapters are global; asyncpg's are
    native). `sql` uses `{}` placeholders."""
    if not rows:
        return
    engine = current_engine()
    await _connection(engine).executemany(_placeholders(sql, engine), rows)


async def update_rows(
    tablename: str, updates: Sequence[tuple[Any, dict[str, Any]]], json_columns: frozenset[str] = frozenset()
) -> None:
    """`UPDATE tablename SET ... WHERE id = ...` for (id, {column: value}) pairs: one batched statement per set of
    columns changed. Values of `json_columns` are encoded as JSON text."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row_id, changed in updates:
        columns = tuple(sorted(changed))
        values = (msgspec.json.encode(changed[c]).decode() if c in json_columns else changed[c] for c in columns)
        groups.setdefault(columns, []).append((*values, row_id))
    for columns, rows in groups.items():
        assignments = ", ".join(f'"{c}" = {{}}' for c in columns)
        await executemany(f'UPDATE "{tablename}" SET {assignments} WHERE id = {{}}', rows)


async def insert_rows(
    head: str, rows: Sequence[Sequence[Any]], tail: str = "", batch: int = 200, pg_types: Sequence[str] = ()
) -> None:
    """`head VALUES (...), (...) tail` for many rows, the fastest way each database takes them: sqlite3's
    executemany of one prepared row; on PostgreSQL, with `pg_types` (one per column), `head SELECT * FROM
    unnest($1::type[], ...) tail`: one statement text whatever the row count, prepared once per connection, the
    columns sent as binary arrays; without them multi-row VALUES of `batch` rows (a pipelined executemany costs
    PostgreSQL a statement per row: 4,400 rows/s against 11,000 for sync_field). With an
    `ON CONFLICT ... DO UPDATE` tail, no two rows may share a key."""
    if not rows:
        return
    engine = current_engine()
    width = len(rows[0])
    one = "(" + ", ".join(["{}"] * width) + ")"
    if is_sqlite(engine):
        await executemany(f"{head} VALUES {one} {tail}", rows)
        return
    connection = _connection(engine)
    if pg_types:
        arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(pg_types, 1))
        await connection.execute(f"{head} SELECT * FROM unnest({arrays}) {tail}", *map(list, zip(*rows, strict=True)))
        return
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        sql = f"{head} VALUES {', '.join([one] * len(chunk))} {tail}"
        await connection.execute(_placeholders(sql, engine), *(value for row in chunk for value in row))


async def fetch(sql: str, *args: Any) -> list[Any]:
    """The rows of one query on the current transaction, as mappings by column name (see `executemany`)."""
    engine = current_engine()
    connection = _connection(engine)
    if is_sqlite(engine):
        return list(await connection.execute_fetchall(_placeholders(sql, engine), args))
    return list(await connection.fetch(_placeholders(sql, engine), *args))


async def migrate(quiet: bool = True) -> None:
    """Apply every migration not yet applied to the current engine."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="fieldbook")
    if not result.success:
        raise DomainError(f"Migration failed: {result.message}\n{sink.getvalue()}", code="db.migration_failed")


async def start(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


def contains(column: Any, text: str) -> Any:
    """A case-insensitive substring match: ILIKE on PostgreSQL, LIKE on SQLite (case-insensitive for ASCII)."""
    pattern = f"%{text}%"
    return column.like(pattern) if is_sqlite(current_engine()) else column.ilike(pattern)


# Hand-written migrations: indexes Piccolo's auto migrations can't express portably.
Indexes = dict[str, tuple[str, tuple[str, ...], bool]]  # name -> (table, columns, unique)


def index_migration(migration_id: str, description: str, indexes: Indexes) -> MigrationManager:
    """A migration that creates `indexes` (and drops them backwards)."""
    manager = MigrationManager(migration_id=migration_id, app_name="fieldbook", description=description)

    async def create() -> None:
        engine = current_engine()
        for name, (table, columns, unique) in indexes.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            await engine.run_ddl(f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({cols})')

    async def drop() -> None:
        engine = current_engine()
        for name in indexes:
            await engine.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
