"""Password hashing with argon2id at OWASP's minimum cost (m=19 MiB, t=2, p=1), off the event loop."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

from backend.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 256

HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# Verified against when the email is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = HASHER.hash("fieldbook-timing-equaliser")


def check_policy(password: str, *, email: str = "", field: str = "password") -> None:
    """Length 10..256 (NIST SP 800-63B favours length over composition rules) and not the email itself."""
    if len(password) < MIN_LENGTH:
        raise Invalid.field(field, f"must be at least {MIN_LENGTH} characters", code="auth.weak_password")
    if len(password) > MAX_LENGTH:
        raise Invalid.field(field, f"must be at most {MAX_LENGTH} characters", code="auth.weak_password")
    if email and password.strip().lower() == email.strip().lower():
        raise Invalid.field(field, "must not be the email address", code="auth.weak_password")


def hash_password_sync(password: str) -> str:
    return HASHER.hash(password)


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with `stored_hash=None` it spends the same time and returns False."""
    return await anyio.to_thread.run_sync(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
