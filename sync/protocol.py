"""The sans-IO sync engine: a request and a store in, the reply out. No HTTP, no database.

`handle()` checks the request as a whole (protocol, schema version, size, cursor), then each change (clock skew,
then the caller's policy), merges the accepted ones, and pulls what the caller has not seen. The caller (the
backend) runs it inside one database transaction, so a push is applied entirely or not at all.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection
from dataclasses import dataclass

from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change, valid_causal_length
from sync.clock import Clock, ClockError, Hlc
from sync.store import ChangeStore, Policy, Rejection

# "v1:<seq>", or "v1:<seq>:full" while a full download (cursor null) is still paging: it keeps the caller's own
# changes on every page, not only the first.
_CURSOR = re.compile(r"v1:(\d{1,19})(:full)?")


@dataclass(frozen=True)
class Limits:
    max_changes: int = 5_000
    page_size: int = 1_000
    max_skew_ms: int = 5 * 60 * 1000


class SyncRefused(Exception):
    """The whole request is refused; nothing was applied. `status` is the HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def format_cursor(seq: int, *, full: bool = False) -> str:
    return f"v1:{seq}:full" if full else f"v1:{seq}"


def parse_cursor(cursor: str | None) -> tuple[int | None, bool]:
    """(sequence number, whether a full download is in progress); (None, True) for a null cursor."""
    if cursor is None:
        return None, True
    match = _CURSOR.fullmatch(cursor)
    if not match:
        raise SyncRefused(m.BAD_CURSOR, f"{cursor!r} is not a cursor this server issued")
    return int(match.group(1)), match.group(2) is not None


async def handle(
    request: m.SyncRequest,
    *,
    store: ChangeStore,
    policy: Policy,
    clock: Clock,
    schema_versions: Collection[int],
    limits: Limits = Limits(),
) -> m.SyncResponse:
    if request.protocol != m.PROTOCOL:
        raise SyncRefused(m.UNSUPPORTED_PROTOCOL, f"protocol {request.protocol} is not supported; use {m.PROTOCOL}")
    if request.schema_version not in schema_versions:
        raise SyncRefused(
            m.UNKNOWN_SCHEMA,
            f"schema version {request.schema_version} is unknown here (known: {sorted(schema_versions)}); "
            "update the app or wait for the server to be upgraded",
        )
    if len(request.changes) > limits.max_changes:
        raise SyncRefused(
            m.TOO_MANY_CHANGES, f"{len(request.changes)} changes in one request; at most {limits.max_changes}", 413
        )
    if request.client_id.startswith(m.SERVER_NODE_PREFIX):
        raise SyncRefused(m.BAD_CLIENT_ID, f"client ids starting with {m.SERVER_NODE_PREFIX!r} are the server's")
    cursor, full = parse_cursor(request.cursor)
    horizon = await store.horizon()
    if cursor is not None and cursor < horizon:
        raise SyncRefused(
            m.MUST_REFETCH, "this replica is older than the server keeps deletions for; download it again", 409
        )

    # Skew and server_time use physical time: the HLC moves ahead with every stamp it accepts, and measuring
    # from it would let the allowed skew creep forward by the bound with each push.
    physical = clock.physical()
    results: list[m.ChangeResult | None] = [None] * len(request.changes)
    reviewable: list[int] = []
    for index, change in enumerate(request.changes):
        if change.node != request.client_id:
            # A replica pushes only what it made itself; another node's change would borrow its tie-breaks.
            results[index] = m.ChangeResult(
                status="rejected",
                code=m.NOT_ALLOWED,
                message=f"a change must carry this client's id as its node ({request.client_id!r})",
                field="node",
            )
            continue
        if change.column == CAUSAL_LENGTH and not valid_causal_length(change.value):
            results[index] = m.ChangeResult(
                status="rejected",
                code=m.INVALID_VALUE,
                message="_cl must be a positive integer below 2**31",
                field=CAUSAL_LENGTH,
            )
            continue
        skew = _skew(change, physical, limits.max_skew_ms)
        if skew is not None:
            results[index] = skew
        else:
            reviewable.append(index)
    verdicts = await policy.review([request.changes[i] for i in reviewable])
    accepted: list[Change] = []
    for index, verdict in zip(reviewable, verdicts, strict=True):
        if verdict is None:
            change = request.changes[index]
            accepted.append(change)
            results[index] = m.ACCEPTED
            # Skew was checked above; an overflowing counter only delays our own next stamps.
            with contextlib.suppress(ClockError):
                clock.receive(Hlc.parse(change.hlc, change.node))
        else:
            results[index] = _rejected(verdict)
    await store.apply(accepted)

    # A replica has what it made itself, except when it downloads everything again (cursor null).
    exclude = None if full else request.client_id
    pull = await store.pull(cursor, min(request.limit or limits.page_size, limits.page_size), exclude)
    return m.SyncResponse(
        results=[r for r in results if r is not None],
        changes=pull.changes,
        removed=pull.removed,
        cursor=format_cursor(pull.cursor, full=full and pull.has_more),
        has_more=pull.has_more,
        server_time=physical,
        checksum=pull.checksum,
    )


def _skew(change: Change, physical: int, bound_ms: int) -> m.ChangeResult | None:
    wall = int(change.hlc[:12], 16)
    if wall - physical <= bound_ms:
        return None
    return m.ChangeResult(
        status="rejected",
        code=m.CLOCK_SKEW,
        message=f"stamped {wall - physical} ms ahead of the server (server_time {physical}); "
        "correct the clock offset and stamp the change again",
        field="hlc",
    )


def _rejected(verdict: Rejection) -> m.ChangeResult:
    return m.ChangeResult(status="rejected", code=verdict.code, message=verdict.message, field=verdict.field)
