"""A device as the protocol's section 3.1 describes it: a replica, a clock, an outbox and a cursor, over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync import messages as m
from sync.changes import CAUSAL_LENGTH, Change
from sync.checksum import state_checksum
from sync.clock import Clock, Hlc
from sync.merge import Replica


@dataclass
class SyncRound:
    results: list[m.ChangeResult] = field(default_factory=list)
    pulled: int = 0
    requests: int = 0
    removed: list[m.RowRef] = field(default_factory=list)


class Device:
    def __init__(self, client: httpx.AsyncClient, token: str, *, name: str | None = None, msgpack: bool = False):
        self.client = client
        self.token = token
        self.node = name or f"dev-{uuid.uuid4().hex[:12]}"
        self.clock = Clock(self.node)
        self.replica = Replica()
        self.outbox: list[Change] = []
        self.cursor: str | None = None
        self.msgpack = msgpack
        self.server_checksum: int | None = None
        self.rejected: list[tuple[Change, m.ChangeResult]] = []

    def edit(self, table: str, row: str, **values: Any) -> list[Change]:
        """A local edit: the replica and the outbox change together."""
        made = []
        for column, value in values.items():
            stamp = self.clock.now()
            change = Change(table, row, column, value, stamp.stamp, stamp.node)
            self.replica.apply(change)
            self.outbox.append(change)
            made.append(change)
        return made

    def create(self, table: str, **values: Any) -> str:
        row = str(uuid.uuid4())
        self.edit(table, row, **{CAUSAL_LENGTH: 1}, **values)
        return row

    def delete(self, table: str, row: str) -> None:
        current = self.replica.causal_length(table, row) or 1
        self.edit(table, row, **{CAUSAL_LENGTH: current + 1 if current % 2 else current})

    async def request(self, changes: list[Change], **overrides: Any) -> httpx.Response:
        message = m.SyncRequest(
            protocol=overrides.pop("protocol", m.PROTOCOL),
            schema_version=overrides.pop("schema_version", 1),
            client_id=self.node,
            cursor=overrides.pop("cursor", self.cursor),
            changes=changes,
            limit=overrides.pop("limit", None),
        )
        body = m.encode_msgpack(message) if self.msgpack else m.encode_json(message)
        content_type = "application/msgpack" if self.msgpack else "application/json"
        return await self.client.post(
            "/api/v1/sync",
            content=body,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )

    async def sync(self, *, limit: int | None = None) -> SyncRound:
        """Push the outbox, then pull until has_more is false. Raises on any non-200 answer."""
        done = SyncRound()
        pushing = list(self.outbox)
        while True:
            response = await self.request(pushing, limit=limit)
            done.requests += 1
            assert response.status_code == 200, response.text
            reply = m.decode_response(response.content, msgpack=self.msgpack)
            for change, result in zip(pushing, reply.results, strict=True):
                if result.status == "rejected":
                    self.rejected.append((change, result))
            done.results += reply.results
            self.outbox = self.outbox[len(pushing) :]
            pushing = []
            for ref in reply.removed:
                self.replica.fields.pop((ref.table, ref.row), None)
            done.removed += reply.removed
            for change in reply.changes:
                self.replica.apply(change)
                self.clock.receive(Hlc.parse(change.hlc, change.node))
            done.pulled += len(reply.changes)
            self.cursor = reply.cursor
            self.server_checksum = reply.checksum
            if not reply.has_more:
                return done

    def checksum(self) -> int:
        return state_checksum(self.replica.changes())

    async def refetch(self) -> SyncRound:
        """Drop the replica (keeping the outbox) and download everything again: after rejections or a mismatch."""
        self.replica = Replica()
        for change in self.outbox:
            self.replica.apply(change)
        self.cursor = None
        return await self.sync()
