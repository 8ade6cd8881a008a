"""Host header checking: requests must name one of the configured hosts.

Litestar's own check compares the whole header, port included, so `localhost:8000` would not match
`localhost`; this one compares the host name alone. Entries: `example.com`, `*.example.com` (any subdomain),
or `*` (anything). A mismatch answers 400 problem+json with the code `request.bad_host`.
"""

from __future__ import annotations

import msgspec
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from backend.errors import PROBLEM_JSON, Problem


def host_name(header: str) -> str:
    """`example.com:8000` -> `example.com`; `[::1]:8000` -> `[::1]`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(name: str, allowed: list[str]) -> bool:
    for entry in allowed:
        entry = entry.lower()
        if entry == "*" or entry == name or (entry.startswith("*.") and name.endswith(entry[1:])):
            return True
    return False


class AllowedHostsMiddleware:
    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not host_allowed(host_name(header), self.allowed):
                body = Problem(
                    status=400,
                    code="request.bad_host",
                    title="Unknown host",
                    detail=f"Host {header!r} is not served here",
                )
                payload = msgspec.json.encode(body)
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
                await send(start)
                await send({"type": "http.response.body", "body": payload, "more_body": False})
                return
        await self.app(scope, receive, send)
