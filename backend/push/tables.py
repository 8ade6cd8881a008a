from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization, User
from backend.tables_base import created_column, id_column, updated_column
from backend.visits.tables import Reminder


class PushSubscription(Table):
    """A browser's push subscription (the PushSubscription JSON a PWA gets from its push service)."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    # Unique: one browser profile has one endpoint; whoever registers it last receives on it.
    endpoint = Text(unique=True)
    p256dh = Varchar(length=128)
    auth = Varchar(length=64)
    user_agent = Varchar(length=300, default="")
    expires_at = Timestamptz(null=True, default=None)
    # Failed sends in a row (429, 5xx, network); reset by a success.
    failures = Integer(default=0)
    last_status = Integer(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    last_failure_at = Timestamptz(null=True, default=None)
    created_at = created_column()
    updated_at = updated_column()


class PushDelivery(Table):
    """One reminder sent to one subscription, for one due time: the unit of exactly-once delivery.

    Unique on (reminder_id, subscription_id, due_at), so a reminder fans out to a device once per due time (a
    snoozed reminder is due again, and sent again). Claimed by a worker with a lease (`claimed_until`); a worker
    that dies mid-send leaves the lease to expire and the delivery is sent again, but one whose answer was
    recorded is never sent again (docs/push.md)."""

    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    reminder_id = ForeignKey(Reminder, null=False, index=True, on_delete=OnDelete.cascade)
    subscription_id = ForeignKey(PushSubscription, null=False, index=True, on_delete=OnDelete.cascade)
    due_at = Timestamptz()
    # pending | sending | sent | gone | failed | cancelled (the reminder was dismissed before it went out)
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    claimed_until = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    created_at = created_column()
