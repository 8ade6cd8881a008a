"""Keys and indexes of the sync tables: one version per field, pulls by sequence within a scope."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db import index_migration

ID = "2026-11-23T09:54:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync indexes"


async def forwards() -> MigrationManager:
    return index_migration(
        ID,
        DESCRIPTION,
        {
            "sync_field_key": ("sync_field", ("org_id", "tbl", "row_id", "col"), True),
            "sync_field_org_seq": ("sync_field", ("org_id", "seq"), False),
            "sync_field_owner_seq": ("sync_field", ("org_id", "owner_id", "seq"), False),
            "sync_removal_user_seq": ("sync_removal", ("org_id", "user_id", "seq"), False),
        },
    )
