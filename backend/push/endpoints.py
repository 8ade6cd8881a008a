"""Which push endpoints the server will POST to: the guard against request forgery.

A subscription's endpoint is a URL a client chose, and the worker later sends requests to it from inside the
network. So an endpoint must be https, on the default port or one listed, on a host of a known push service (or
one the operator added), short, without credentials; and when the worker connects, every address the name resolves
to must be public (no loopback, private, link-local, multicast or reserved address), which is checked on the
connection itself so a DNS answer cannot change between the check and the request. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from backend.settings import Settings

MAX_ENDPOINT = 1024
# The push services of Chrome/Edge-on-Android (FCM), Firefox, Edge/Windows and Safari/iOS.
DEFAULT_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "*.push.services.mozilla.com",
    "*.notify.windows.com",
    "*.push.apple.com",
)


def _allowed(host: str, port: int | None, patterns: list[str]) -> bool:
    """Whether host:port matches one of `patterns` ("host", "host:port", "*.domain"; no port means 443)."""
    for pattern in patterns:
        name, colon, wanted = pattern.strip().lower().partition(":")
        if (int(wanted) if colon and wanted.isdigit() else 443) != (port or 443):
            continue
        if host == name or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


def endpoint_problem(endpoint: str, settings: Settings) -> str | None:
    """Why the server will not send to `endpoint`, or None."""
    if len(endpoint) > MAX_ENDPOINT:
        return f"is longer than {MAX_ENDPOINT} characters"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        return f"is not a URL: {exc}"
    if parts.scheme != "https":
        return "must be an https URL"
    if parts.username or parts.password or not parts.hostname:
        return "must name a host, without credentials"
    if parts.fragment:
        return "must not have a fragment"
    host = parts.hostname.lower()
    if not _allowed(host, port, [*DEFAULT_HOSTS, *settings.push_extra_hosts]):
        return f"{host} is not a known push service"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global and not settings.push_allow_private:
        return f"{host} is not a public address"
    return None


class PublicResolver(AbstractResolver):
    """Resolves like the system, then keeps only public addresses (all of them, unless private ones are allowed).

    aiohttp does not call a resolver for IP-literal URLs: those are checked by `endpoint_problem` before sending."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return found
        public = [r for r in found if ipaddress.ip_address(r["host"]).is_global]
        if not public:
            raise OSError(f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()
