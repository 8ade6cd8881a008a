"""Running checksums per scope key: the bucket key, the triggers that keep `sync_bucket` exact, the backfill,
and the indexes a pull's branches scan (docs/sync-protocol.md 6)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db import current_engine, is_sqlite

ID = "2026-11-23T11:52:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync bucket triggers and pull indexes"

NIL = "00000000-0000-0000-0000-000000000000"
KEY = "org_id, org_wide, owner_id, territory_id"
CHANGED = (
    "OLD.fp IS DISTINCT FROM NEW.fp OR OLD.alive IS DISTINCT FROM NEW.alive OR OLD.org_wide IS DISTINCT FROM "
    "NEW.org_wide OR OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.territory_id IS DISTINCT FROM NEW.territory_id"
)


def _add(row: str, sign: str, nil: str) -> str:
    """Add (or subtract) the fingerprint of `row` (OLD or NEW) to its bucket, when that row is live.

    INSERT ... SELECT ... WHERE: SQLite needs the WHERE to tell the upsert's ON CONFLICT from a join's ON.
    """
    return (
        f"INSERT INTO sync_bucket ({KEY}, total) SELECT {row}.org_id, {row}.org_wide, "
        f"coalesce({row}.owner_id, {nil}), coalesce({row}.territory_id, {nil}), {sign}{row}.fp WHERE {row}.alive "
        f"ON CONFLICT ({KEY}) DO UPDATE SET total = sync_bucket.total + excluded.total"
    )


SQLITE_NIL = f"'{NIL}'"
SQLITE_CHANGED = CHANGED.replace("IS DISTINCT FROM", "IS NOT")
SQLITE = [
    f"CREATE TRIGGER sync_bucket_insert AFTER INSERT ON sync_field BEGIN {_add('NEW', '', SQLITE_NIL)}; END",
    f"CREATE TRIGGER sync_bucket_delete AFTER DELETE ON sync_field BEGIN {_add('OLD', '-', SQLITE_NIL)}; END",
    f"CREATE TRIGGER sync_bucket_update AFTER UPDATE ON sync_field WHEN {SQLITE_CHANGED} "
    f"BEGIN {_add('OLD', '-', SQLITE_NIL)}; {_add('NEW', '', SQLITE_NIL)}; END",
]

PG_NIL = f"'{NIL}'::uuid"
POSTGRES = [
    "CREATE FUNCTION sync_bucket_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_add('OLD', '-', PG_NIL)}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_add('NEW', '', PG_NIL)}; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER sync_bucket_write AFTER INSERT OR DELETE ON sync_field "
    "FOR EACH ROW EXECUTE FUNCTION sync_bucket_track()",
    f"CREATE TRIGGER sync_bucket_update AFTER UPDATE ON sync_field FOR EACH ROW WHEN ({CHANGED}) "
    "EXECUTE FUNCTION sync_bucket_track()",
]

INDEXES = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS sync_bucket_key ON sync_bucket ({KEY})",
    # A pull is a union of range scans in sequence order, one per branch of the scope (backend/sync_api/store.py).
    "CREATE INDEX IF NOT EXISTS sync_field_wide_seq ON sync_field (org_id, org_wide, seq)",
    "CREATE INDEX IF NOT EXISTS sync_field_territory_seq ON sync_field (org_id, territory_id, seq)",
]


def _backfill(nil: str) -> str:
    return (
        f"INSERT INTO sync_bucket ({KEY}, total) SELECT org_id, org_wide, coalesce(owner_id, {nil}), "
        f"coalesce(territory_id, {nil}), SUM(fp) FROM sync_field WHERE alive "
        "GROUP BY org_id, org_wide, coalesce(owner_id, {nil}), coalesce(territory_id, {nil})".replace("{nil}", nil)
    )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="fieldbook", description=DESCRIPTION)

    async def create() -> None:
        engine = current_engine()
        sqlite = is_sqlite(engine)
        for statement in [*INDEXES, *(SQLITE if sqlite else POSTGRES), _backfill(SQLITE_NIL if sqlite else PG_NIL)]:
            await engine.run_ddl(statement)

    async def drop() -> None:
        engine = current_engine()
        if is_sqlite(engine):
            statements = [f"DROP TRIGGER IF EXISTS sync_bucket_{op}" for op in ("insert", "delete", "update")]
        else:
            statements = [f"DROP TRIGGER IF EXISTS sync_bucket_{op} ON sync_field" for op in ("write", "update")]
            statements.append("DROP FUNCTION IF EXISTS sync_bucket_track()")
        statements.append("DELETE FROM sync_bucket")
        for name in ("sync_field_wide_seq", "sync_field_territory_seq", "sync_bucket_key"):
            statements.append(f"DROP INDEX IF EXISTS {name}")
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
