"""Login and password change."""

from __future__ import annotations

import uuid

from backend.auth import throttle
from backend.auth.passwords import check_policy, hash_password, needs_rehash, verify_password
from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import Invalid, Unauthorized
from backend.orgs.schemas import User as UserOut
from backend.orgs.services import find_user_by_email, get_user_by_id
from backend.orgs.tables import User
from backend.settings import Settings
from backend.tables_base import utcnow


async def authenticate(settings: Settings, email: str, password: str, address: str) -> UserOut:
    """The active user with this email and password, or 401; rate-limited per account and per address."""
    email = email.strip().lower()
    await throttle.check_allowed(settings, email, address)
    row = await find_user_by_email(email)
    ok = await verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or not row["active"]:
        await throttle.record_failure(settings, email, address)
        raise Unauthorized("Wrong email or password", code="auth.invalid_credentials")
    await throttle.clear_account(email)
    if needs_rehash(row["password_hash"]):
        await User.update({User.password_hash: await hash_password(password)}).where(User.id == row["id"]).run()
    return await get_user_by_id(row["id"])


async def change_password(principal: Principal, current_password: str, new_password: str) -> uuid.UUID:
    """Set a new password after checking the current one; every earlier token stops working."""
    row = await User.select(User.password_hash, User.email).where(User.id == principal.user_id).first().run()
    if row is None or not await verify_password(row["password_hash"], current_password):
        raise Invalid.field("current_password", "is wrong", code="auth.wrong_password")
    check_policy(new_password, email=row["email"], field="new_password")
    if current_password == new_password:
        raise Invalid.field("new_password", "must differ from the current password", code="auth.weak_password")
    new_hash = await hash_password(new_password)  # slow: never inside the write lock
    now = utcnow()
    async with write_transaction():
        await (
            User.update(
                {
                    User.password_hash: new_hash,
                    User.tokens_valid_after: now.replace(microsecond=0),
                    User.updated_at: now,
                }
            )
            .where(User.id == principal.user_id)
            .run()
        )
    return principal.user_id
