from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization
from backend.tables_base import created_column, id_column


class SyncField(Table):
    """The winning version of one field of one synced row: the replicated state itself.

    `seq` is the server sequence number the version was stored (or renumbered) at: pull cursors count these.
    `org_wide`, `owner_id` and `territory_id` are the row's scope keys, copied on every field so a pull is one
    indexed query. `fp` is the field version's fingerprint (sync/checksum.py).
    """

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    tbl = Varchar(length=63)
    row_id = Varchar(length=64)
    col = Varchar(length=63)
    # JSON text, decoded by msgspec (a JSON column has numeric affinity in SQLite: '1' would come back as 1).
    value = Text()
    hlc = Varchar(length=17)
    node = Varchar(length=64)
    seq = BigInt()
    fp = BigInt()
    # Whether the row is live (odd _cl): the checksum covers live rows only (docs/sync-protocol.md 6).
    alive = Boolean(default=True)
    org_wide = Boolean(default=False)
    owner_id = UUID(null=True, default=None)
    territory_id = UUID(null=True, default=None)
    updated_at = Timestamptz()


class SyncCounter(Table):
    """Per organisation: the last sequence number handed out, and the horizon below which cursors are stale."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict, unique=True)
    last_seq = BigInt(default=0)
    horizon = BigInt(default=0)


class SyncRemoval(Table):
    """A row left a user's scope at `seq`: their next pull tells their devices to drop it."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    user_id = UUID()
    tbl = Varchar(length=63)
    row_id = Varchar(length=64)
    seq = BigInt()
    created_at = created_column()


class SyncBucket(Table):
    """The running checksum of one scope key: the sum of `fp` over the live fields with these keys.

    Kept by database triggers on `sync_field` (migration "sync buckets"), so every write path keeps it exact.
    A caller's checksum is the sum over the buckets their pull condition matches: each field is in exactly one
    bucket, so a pull page's checksum costs a few rows, not a scan of the scope (docs/sync-protocol.md 6).
    A missing owner or territory is stored as the nil UUID, so the key is unique on both databases.
    """

    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    org_wide = Boolean(default=False)
    owner_id = UUID()
    territory_id = UUID()
    total = BigInt(default=0)
