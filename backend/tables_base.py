"""Column helpers shared by every table: client-or-server made UUIDv7 keys and UTC timestamps."""

from __future__ import annotations

import datetime as dt
import uuid

from piccolo.columns import UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from uuid6 import uuid7


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so primary-key indexes stay compact; phones make the same kind offline."""
    # uuid6 returns a subclass; the SQLite driver adapts only uuid.UUID itself.
    return uuid.UUID(int=uuid7().int)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def id_column() -> UUID:
    # The database default is v4 (portable DDL); every row we insert passes a v7 from new_id() or the phone.
    return UUID(primary_key=True)


def created_column() -> Timestamptz:
    return Timestamptz(default=TimestamptzNow())


def updated_column() -> Timestamptz:
    return Timestamptz(default=TimestamptzNow())
