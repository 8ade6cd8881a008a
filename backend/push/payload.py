"""What a push message carries: enough for the service worker to show the notification and open the right
screen (`url`, `tag`), within the 4 KB a push service accepts."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import msgspec

# RFC 8291 with one 4096-byte record: 4096 - 86 (header with a 65-byte key id) - 16 (tag) - 1 (delimiter).
MAX_PLAINTEXT = 3993
TITLES = {
    "reminder": {"en": "Reminder", "zh": "提醒"},
    "alert": {"en": "Alert", "zh": "警报"},
}


class Message(msgspec.Struct, omit_defaults=True):
    """The JSON body the service worker receives (docs/push.md)."""

    id: str
    kind: str
    title: str
    body: str
    url: str
    tag: str
    due_at: str
    urgent: bool = False
    store_id: str | None = None


def topic(reminder_id: uuid.UUID) -> str:
    """RFC 8030 Topic (at most 32 URL-safe base64 characters): a newer message for the same reminder replaces a
    queued one at the push service (a snoozed reminder sent again)."""
    return base64.urlsafe_b64encode(reminder_id.bytes).rstrip(b"=").decode()


def message(
    *,
    reminder_id: uuid.UUID,
    kind: str,
    text: str,
    due_at: dt.datetime,
    urgent: bool,
    store_id: uuid.UUID | None,
    locale: str,
) -> bytes:
    """The encoded message, its text shortened (never cut inside a character) to fit MAX_PLAINTEXT."""
    language = "zh" if locale.lower().startswith("zh") else "en"
    body = Message(
        id=str(reminder_id),
        kind=kind,
        title=TITLES.get(kind, TITLES["reminder"])[language],
        body=text,
        url=f"/reminders/{reminder_id}",
        tag=f"reminder-{reminder_id}",
        due_at=due_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        urgent=urgent,
        store_id=str(store_id) if store_id else None,
    )
    encoded = msgspec.json.encode(body)
    if len(encoded) <= MAX_PLAINTEXT:
        return encoded
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        middle = (low + high + 1) // 2
        body.body = text[:middle] + "…"
        if len(msgspec.json.encode(body)) <= MAX_PLAINTEXT:
            low = middle
        else:
            high = middle - 1
    body.body = text[:low] + "…"
    return msgspec.json.encode(body)
