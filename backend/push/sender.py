"""Sending one Web Push message (RFC 8030) with pywebpush's async API: encrypted (RFC 8291, aes128gcm), signed
(VAPID, RFC 8292), with TTL, Urgency and Topic, a timeout, no redirects, and only to public addresses."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
from pywebpush import WebPushException, webpush_async

from backend.push.endpoints import PublicResolver, endpoint_problem
from backend.push.payload import MAX_PLAINTEXT
from backend.push.vapid import subject, vapid_key
from backend.settings import Settings

log = logging.getLogger("fieldbook.push")


@dataclass(frozen=True)
class Outcome:
    """A push service's answer: its HTTP status (0: no answer), and Retry-After in seconds when it gave one."""

    status: int
    retry_after: float | None = None
    error: str = ""
    # Not sent: the endpoint fails the request-forgery guard (backend/push/endpoints.py); never retried.
    refused: bool = False


class RedirectRefused(aiohttp.ClientError):
    pass


async def _refuse_redirect(session: Any, context: Any, params: Any) -> None:
    raise RedirectRefused(f"redirect {params.response.status} to {params.response.headers.get('Location')} refused")


class PushSender:
    """One HTTP session (connection reuse) for a batch of sends. Use as `async with PushSender(settings) as s`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.vapid = vapid_key(settings)
        self.subject = subject(settings)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PushSender:
        context = ssl.create_default_context()
        if self.settings.push_ca_file:
            context.load_verify_locations(cafile=self.settings.push_ca_file)
        trace = aiohttp.TraceConfig()
        trace.on_request_redirect.append(_refuse_redirect)
        connector = aiohttp.TCPConnector(
            resolver=PublicResolver(self.settings.push_allow_private), ssl=context, limit=self.settings.push_concurrency
        )
        self._session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self, endpoint: str, p256dh: str, auth: str, data: bytes, *, ttl: int, urgency: str, topic: str
    ) -> Outcome:
        assert self._session is not None, "use PushSender as an async context manager"
        if len(data) > MAX_PLAINTEXT:
            raise ValueError(f"a push message holds at most {MAX_PLAINTEXT} bytes, not {len(data)}")
        problem = endpoint_problem(endpoint, self.settings)
        if problem:
            return Outcome(0, error=f"endpoint {problem}", refused=True)
        try:
            response = await webpush_async(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=data,
                vapid_private_key=self.vapid,
                # pywebpush writes `aud` and `exp` into the dict it is given: a fresh one every time.
                vapid_claims={"sub": self.subject},
                ttl=ttl,
                # pywebpush's default TTL of 0 would drop the message for a phone that is offline.
                headers={"Urgency": urgency, "Topic": topic},
                timeout=self.settings.push_timeout_s,
                aiohttp_session=self._session,
            )
        except WebPushException as exc:
            answer = exc.response
            status = int(getattr(answer, "status", 0) or 0)
            return Outcome(status, _retry_after(answer), f"push service answered {status}")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return Outcome(0, error=f"{type(exc).__name__}: {exc}")
        return Outcome(int(getattr(response, "status", 201)))


def _retry_after(answer: Any) -> float | None:
    """Retry-After in seconds (RFC 9110: delay-seconds; an HTTP date is read as "soon")."""
    value = getattr(answer, "headers", {}).get("Retry-After") if answer is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0
