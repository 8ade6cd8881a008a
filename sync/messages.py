"""The wire messages. One request both pushes and pulls, so a sync is one round trip.

Both JSON and MessagePack carry the same Structs (`Content-Type: application/json` or
`application/msgpack`). Codes are stable strings; messages are for people.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from sync.changes import NODE, Change

PROTOCOL = 1

# Per-change rejection codes.
NOT_ALLOWED = "sync.not_allowed"
INVALID_VALUE = "sync.invalid_value"
UNKNOWN_TABLE = "sync.unknown_table"
UNKNOWN_COLUMN = "sync.unknown_column"
SERVER_OWNED = "sync.server_owned"
CLOCK_SKEW = "sync.clock_skew"
NO_SUCH_ROW = "sync.no_such_row"
INCOMPLETE_ROW = "sync.incomplete_row"

# Request-level error codes (the whole request is refused, nothing applied).
UNSUPPORTED_PROTOCOL = "sync.unsupported_protocol"
UNKNOWN_SCHEMA = "sync.unknown_schema"
MUST_REFETCH = "sync.must_refetch"
TOO_MANY_CHANGES = "sync.too_many_changes"
BAD_CURSOR = "sync.bad_cursor"
BAD_CLIENT_ID = "sync.bad_client_id"

# Node ids starting with this are the server's own (its derived fields); no client may use one.
SERVER_NODE_PREFIX = "server"


class SyncRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    protocol: int
    schema_version: int
    client_id: NODE
    cursor: str | None = None
    changes: list[Change] = msgspec.field(default_factory=list)
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None


class ChangeResult(msgspec.Struct, omit_defaults=True):
    """The answer to changes[i] of the request, in the same order."""

    status: Literal["accepted", "rejected"]
    code: str | None = None
    message: str | None = None
    field: str | None = None


ACCEPTED = ChangeResult(status="accepted")


class RowRef(msgspec.Struct, frozen=True):
    table: str
    row: str


class SyncResponse(msgspec.Struct, kw_only=True):
    results: list[ChangeResult]
    changes: list[Change]
    # Rows that left the caller's scope: drop them locally (they are not deleted for others).
    removed: list[RowRef] = msgspec.field(default_factory=list)
    cursor: str
    has_more: bool
    server_time: int
    # Sum of the fingerprints of every field version in the caller's scope, as of this answer; compare it
    # with the replica's own when has_more is false (sync/checksum.py).
    checksum: int | None = None


def encode_json(message: msgspec.Struct) -> bytes:
    return msgspec.json.encode(message)


def encode_msgpack(message: msgspec.Struct) -> bytes:
    return msgspec.msgpack.encode(message)


def decode_request(body: bytes, *, msgpack: bool = False) -> SyncRequest:
    if msgpack:
        return msgspec.msgpack.decode(body, type=SyncRequest)
    return msgspec.json.decode(body, type=SyncRequest)


def decode_response(body: bytes, *, msgpack: bool = False) -> SyncResponse:
    if msgpack:
        return msgspec.msgpack.decode(body, type=SyncResponse)
    return msgspec.json.decode(body, type=SyncResponse)
