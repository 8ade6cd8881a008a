"""The sans-IO sync engine: a request and a store in, the reply out. No HTTP, no database.

`handle()` checks the request as a whole (protocol, schema version, size, cursor), then each change (clock skew,
then the caller's policy), merges the accepted ones, and pulls what the caller has not seen. The backend runs
`push` in one write transaction, so a push is applied entirely or not at all, and `respond` in a read
transaction after it commits.
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
    """One sync round: `check`, then `push`, then `respond`.

    A server may run `push` and `respond` in two transactions (the push committed before the pull is read), so
    the write transaction holds its locks only while it writes; the answer is the same as in one transaction
    taken a moment later.
    """
    check(request, schema_versions=schema_versions, limits=limits)
    results = await push(request, store=store, policy=policy, clock=clock, limits=limits)
    return await respond(request, results, store=store, clock=clock, limits=limits)


def check(request: m.SyncRequest, *, schema_versions: Collection[int], limits: Limits) -> None:
    """Refuse a request that is wrong as a whole (protocol, schema version, size, client id, cursor syntax)."""
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
    parse_cursor(request.cursor)


async def _check_cursor(request: m.SyncRequest, store: ChangeStore) -> int | None:
    cursor, _ = parse_cursor(request.cursor)
    if cursor is None:
        return None
    horizon, last = await store.bounds()
    if cursor < horizon:
        raise SyncRefused(
            m.MUST_REFETCH, "this replica is older than the server keeps deletions for; download it again", 409
        )
    if cursor > last:
        raise SyncRefused(
            m.MUST_REFETCH,
            f"this replica is ahead of the server (cursor {cursor}, server at {last}): the server's data was "
            "restored from an earlier backup; download again, then send the outbox again",
            409,
        )
    return cursor


async def push(
    request: m.SyncRequest, *, store: ChangeStore, policy: Policy, clock: Clock, limits: Limits
) -> list[m.ChangeResult]:
    """Review every change (node, _cl, clock skew, then the policy) and merge the accepted ones.

    Returns one result per change, in order. Nothing is applied when the request is refused as a whole.
    """
    await _check_cursor(request, store)
    # Skew uses physical time: the HLC moves ahead with every stamp it accepts, and measuring from it would let
    # the allowed skew creep forward by the bound with each push.
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
    verdicts = await policy.review([request.changes[i] for i in reviewable]) if reviewable else []
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
    if accepted:
        await store.apply(accepted)
    return [r for r in results if r is not None]


async def respond(
    request: m.SyncRequest, results: list[m.ChangeResult], *, store: ChangeStore, clock: Clock, limits: Limits
) -> m.SyncResponse:
    """The answer: the push's results and a page of what the caller has not seen."""
    cursor = await _check_cursor(request, store)
    _, full = parse_cursor(request.cursor)
    # A replica has what it made itself, except when it downloads everything again (cursor null).
    exclude = None if full else request.client_id
    pull = await store.pull(cursor, min(request.limit or limits.page_size, limits.page_size), exclude)
    return m.SyncResponse(
        results=results,
        changes=pull.changes,
        removed=pull.removed,
        cursor=format_cursor(pull.cursor, full=full and pull.has_more),
        has_more=pull.has_more,
        server_time=clock.physical(),
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
