"""Login rate limits per account and per client address, counted in the database (shared by all processes).

The client address is the socket's peer. X-Forwarded-For is believed only when the peer is a configured trusted
proxy, and then only its right-most entry that is not itself a trusted proxy: a client can prepend anything it
likes to that header, so believing it blindly would let an attacker reset its count with every request.
"""

from __future__ import annotations

import datetime as dt
import math

from backend.auth.tables import LoginFailure
from backend.db import write_transaction
from backend.errors import TooManyRequests
from backend.settings import Settings
from backend.tables_base import new_id, utcnow


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: list[str]) -> str:
    address = peer or "unknown"
    if address not in trusted_proxies or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted_proxies:
            return hop
    return address


def _keys(email: str, address: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()}", f"ip:{address}"


async def check_allowed(settings: Settings, email: str, address: str) -> None:
    """Raise TooManyRequests when the account or the address has too many recent failures."""
    now = utcnow()
    since = now - dt.timedelta(minutes=settings.login_window_minutes)
    account_key, ip_key = _keys(email, address)
    for key, limit in (
        (account_key, settings.login_max_failures_per_account),
        (ip_key, settings.login_max_failures_per_ip),
    ):
        rows = (
            await LoginFailure.select(LoginFailure.at)
            .where((LoginFailure.key == key) & (LoginFailure.at > since))
            .order_by(LoginFailure.at)
            .run()
        )
        if len(rows) >= limit:
            # Allowed again when the oldest counted failure leaves the window.
            oldest = rows[len(rows) - limit]["at"]
            retry = (oldest + dt.timedelta(minutes=settings.login_window_minutes) - now).total_seconds()
            raise TooManyRequests(
                "Too many failed logins; try again later",
                retry_after=max(1, math.ceil(retry)),
                code="auth.too_many_attempts",
            )


async def record_failure(settings: Settings, email: str, address: str) -> None:
    now = utcnow()
    expired = now - dt.timedelta(minutes=settings.login_window_minutes)
    async with write_transaction():
        for key in _keys(email, address):
            await LoginFailure.insert(LoginFailure(id=new_id(), key=key, at=now)).run()
            await LoginFailure.delete().where((LoginFailure.key == key) & (LoginFailure.at <= expired)).run()


async def clear_account(email: str) -> None:
    """A successful login forgives the account's failures (not the address's)."""
    await LoginFailure.delete().where(LoginFailure.key == _keys(email, "")[0]).run()
