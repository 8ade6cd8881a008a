"""Indexes of push delivery: one delivery per reminder, device and due time; the queues in due order."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db import index_migration

ID = "2026-11-23T15:28:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "push delivery indexes"


async def forwards() -> MigrationManager:
    return index_migration(
        ID,
        DESCRIPTION,
        {
            "push_delivery_once": ("push_delivery", ("reminder_id", "subscription_id", "due_at"), True),
            "push_delivery_queue": ("push_delivery", ("status", "next_attempt_at"), False),
            "reminder_queue": ("reminder", ("status", "due_at"), False),
        },
    )
