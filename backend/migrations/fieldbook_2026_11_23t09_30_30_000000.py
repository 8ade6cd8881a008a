"""Unique keys that span columns.

Piccolo's `Unique` constraint is added with ALTER TABLE ... ADD CONSTRAINT, which SQLite does not support; a
unique index is portable and enforces the same rule on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T09:30:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys"

UNIQUE_INDEXES = {
    # Names identify organisations on the command line (`--org NAME`).
    "organization_name_key": ("organization", ("name",)),
    "store_org_code_key": ("store", ("org_id", "code")),
    "product_org_code_key": ("product", ("org_id", "code")),
    "product_org_barcode_key": ("product", ("org_id", "barcode")),
    "territory_org_name_key": ("territory", ("org_id", "name")),
    "route_plan_rep_date_key": ("route_plan", ("rep_id", "date")),
    "login_failure_key_at": ("login_failure", ("key", "at")),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="fieldbook", description=DESCRIPTION)

    async def create() -> None:
        from backend.db import current_engine

        engine = current_engine()
        for name, (table, columns) in UNIQUE_INDEXES.items():
            kind = "INDEX" if name == "login_failure_key_at" else "UNIQUE INDEX"
            cols = ", ".join(f'"{c}"' for c in columns)
            await engine.run_ddl(f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({cols})')

    async def drop() -> None:
        from backend.db import current_engine

        engine = current_engine()
        for name in UNIQUE_INDEXES:
            await engine.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
