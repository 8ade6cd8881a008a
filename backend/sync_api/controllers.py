from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post

from backend.auth.guards import EVERYONE
from backend.bodies import read_limited
from backend.db import read_transaction, write_transaction
from backend.deps import Caller, SettingsDep
from backend.errors import DomainError, FieldError, Invalid
from backend.photos.storage import storage_from_settings
from backend.sync_api import versions
from backend.sync_api.clock import server_clock
from backend.sync_api.policy import SyncPolicy
from backend.sync_api.registry import SCHEMA_VERSIONS
from backend.sync_api.store import DatabaseStore
from sync import messages as m
from sync.protocol import Limits, SyncRefused, check, push, respond

MSGPACK = "application/msgpack"


class SyncError(DomainError):
    title = "Sync refused"


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]

    @post(
        "/",
        guards=EVERYONE,
        status_code=200,
        summary="Push local changes and pull what the caller has not seen (docs/sync-protocol.md)",
        description="Body: a SyncRequest as JSON or MessagePack (Content-Type application/msgpack); the answer "
        "is a SyncResponse in the same format.",
        request_max_body_size=None,  # checked below against FIELDBOOK_MAX_SYNC_BYTES
    )
    async def sync(self, request: Request[Any, Any, Any], principal: Caller, settings: SettingsDep) -> Response[bytes]:
        msgpack = request.headers.get("content-type", "").split(";")[0].strip().lower() == MSGPACK
        body = await read_limited(request, settings.max_sync_bytes)
        try:
            message = m.decode_request(body, msgpack=msgpack)
        except msgspec.ValidationError as exc:
            text, _, where = str(exc).partition(" - at `$.")
            raise Invalid(str(exc), errors=[FieldError(where.rstrip("`") or "body", text)]) from None
        except msgspec.DecodeError as exc:
            raise Invalid(str(exc), code="request.malformed", errors=[FieldError("body", str(exc))]) from None
        limits = Limits(
            max_changes=settings.sync_max_changes,
            page_size=settings.sync_page_size,
            max_skew_ms=settings.sync_max_skew_seconds * 1000,
        )
        try:
            check(message, schema_versions=SCHEMA_VERSIONS, limits=limits)
            store, clock = DatabaseStore(principal), server_clock()
            results: list[m.ChangeResult] = []
            if message.changes:
                # The push commits before the answer is read, so the lock is held only while it writes.
                async with write_transaction():
                    await versions.lock(principal.org_id)
                    reader = versions.Reader(principal.org_id)
                    store = DatabaseStore(principal, reader, storage_from_settings(settings))
                    policy = SyncPolicy(principal, reader)
                    results = await push(message, store=store, policy=policy, clock=clock, limits=limits)
            async with read_transaction():
                reply = await respond(message, results, store=store, clock=clock, limits=limits)
        except SyncRefused as exc:
            error = SyncError(exc.message, code=exc.code)
            error.status = exc.status
            raise error from None
        payload = m.encode_msgpack(reply) if msgpack else m.encode_json(reply)
        return Response(payload, media_type=MSGPACK if msgpack else "application/json")
