"""Unique keys that span columns.

Piccolo's `Unique` constraint is added with ALTER TABLE ... ADD CONSTRAINT, which SQLite does not support; a
unique index is portable and enforces the same rule on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db import index_migration

ID = "2026-11-23T09:30:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique keys"


async def forwards() -> MigrationManager:
    return index_migration(
        ID,
        DESCRIPTION,
        {
            # Names identify organisations on the command line (`--org NAME`).
            "organization_name_key": ("organization", ("name",), True),
            "store_org_code_key": ("store", ("org_id", "code"), True),
            "product_org_code_key": ("product", ("org_id", "code"), True),
            "product_org_barcode_key": ("product", ("org_id", "barcode"), True),
            "territory_org_name_key": ("territory", ("org_id", "name"), True),
            "route_plan_rep_date_key": ("route_plan", ("rep_id", "date"), True),
            "login_failure_key_at": ("login_failure", ("key", "at"), False),
        },
    )
