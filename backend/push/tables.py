from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.orgs.tables import Organization, User
from backend.tables_base import created_column, id_column


class PushSubscription(Table):
    id = id_column()
    org_id = ForeignKey(Organization, null=False, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.restrict)
    endpoint = Text(unique=True)
    p256dh = Varchar(length=128)
    auth = Varchar(length=64)
    failures = Integer(default=0)
    last_success_at = Timestamptz(null=True, default=None)
    created_at = created_column()
