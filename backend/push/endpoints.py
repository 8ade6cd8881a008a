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


# Global by Python's table, but able to reach this host or the local network (IPv4-compatible, NAT64, 6to4).
_TUNNELS = tuple(ipaddress.ip_network(n) for n in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16"))


def is_public(text: str) -> bool:
    """Whether an address may be connected to: global, and not a way back into private space."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(str(address.ipv4_mapped))
        if any(address in net for net in _TUNNELS):
            return False
    return address.is_global


def _allowed(host: str, port: int | None, patterns: list[str]) -> bool:
    """Whether host:port matches one of `patterns` ("host", "host:port", "*.domain"; no port means 443)."""
    for pattern in patterns:
        name, colon, wanted = pattern.strip().lower().partition(":")
        if (int(wanted) if colon and wanted.isdigit() else 443) != (443 if port is None else port):
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
        ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: its addresses are checked when the worker connects
    if not is_public(host) and not settings.push_allow_private:
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
        public = [r for r in found if is_public(r["host"])]
        if not public:
            raise OSError(f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()
