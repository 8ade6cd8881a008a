from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from backend.fields import TimeZoneName
from backend.push.endpoints import MAX_ENDPOINT
from backend.stores.schemas import HHMM

# Base64url without padding: a P-256 public key is 65 bytes (87 characters), the auth secret 16 bytes (22).
P256dh = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{87}={0,1}$", description="base64url, 65-byte P-256 point")]
AuthSecret = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{22}(==)?$", description="base64url, 16 bytes")]
Endpoint = Annotated[str, Meta(min_length=10, max_length=MAX_ENDPOINT)]


class PushKey(msgspec.Struct):
    """The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`."""

    public_key: str


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: P256dh
    auth: AuthSecret


class SubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A browser's PushSubscription as `subscription.toJSON()` gives it."""

    endpoint: Endpoint
    keys: SubscriptionKeys
    # Milliseconds since the epoch, or null (most push services); named as the browser names it.
    expiration_time: Annotated[int, Meta(ge=0, le=32_503_680_000_000)] | None = msgspec.field(
        default=None, name="expirationTime"
    )
    user_agent: Annotated[str, Meta(max_length=300)] = ""


class SubscriptionDelete(msgspec.Struct, forbid_unknown_fields=True):
    endpoint: Endpoint


class Subscription(msgspec.Struct):
    id: uuid.UUID
    endpoint: str
    user_agent: str
    expires_at: dt.datetime | None
    failures: int
    last_success_at: dt.datetime | None
    created_at: dt.datetime


class Preferences(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """When notifications may ring: non-urgent ones due between quiet_start and quiet_end (local time in
    `time_zone`, the organisation's when null) wait for quiet_end. Null start or end: no quiet hours."""

    time_zone: TimeZoneName | None = None
    quiet_start: HHMM | None = "21:00"
    quiet_end: HHMM | None = "07:00"


class InboxItem(msgspec.Struct):
    id: uuid.UUID
    kind: str
    text: str
    due_at: dt.datetime
    status: str
    urgent: bool
    store_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    sent_at: dt.datetime | None
    created_at: dt.datetime


class Snooze(msgspec.Struct, forbid_unknown_fields=True):
    minutes: Annotated[int, Meta(ge=1, le=60 * 24 * 30, description="Remind again this many minutes from now")]


InboxStatus = Literal["open", "upcoming", "all"]
