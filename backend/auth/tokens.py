"""Bearer tokens: HS256 JWTs with a fixed audience and issuer, checked against the user's row on every request.

A token is refused (401) when it is expired, tampered with, signed with another algorithm (including `none`),
meant for another audience, or when its user was deactivated or changed password after it was issued.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from backend.auth.principal import Principal
from backend.orgs.tables import User
from backend.settings import Settings

AUDIENCE = "fieldbook"
ISSUER = "fieldbook"

# Reachable without a token.
PUBLIC_PATHS = [
    "^/api/v1/auth/login$",
    "^/api/v1/health$",
    "^/schema",
]


async def retrieve_principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    try:
        user_id = uuid.UUID(token.sub)
    except ValueError:
        return None
    row = (
        await User.select(User.id, User.org_id, User.role, User.email, User.active, User.tokens_valid_after)
        .where(User.id == user_id)
        .first()
        .run()
    )
    if row is None or not row["active"]:
        return None
    valid_after: dt.datetime | None = row["tokens_valid_after"]
    if valid_after is not None and token.iat < valid_after:
        return None
    return Principal(user_id=row["id"], org_id=row["org_id"], role=row["role"], email=row["email"])


def build_jwt_auth(settings: Settings, secret: str) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        token_secret=secret,
        retrieve_user_handler=retrieve_principal,
        algorithm="HS256",
        accepted_audiences=[AUDIENCE],
        accepted_issuers=[ISSUER],
        require_claims=["exp", "iat", "sub", "aud", "iss"],
        default_token_expiration=dt.timedelta(minutes=settings.token_ttl_minutes),
        exclude=PUBLIC_PATHS,
        # Litestar lets HEAD through unauthenticated by default; HEAD /api/v1/photos/{sha256} needs the caller.
        exclude_http_methods=["OPTIONS"],
        description="A bearer token from POST /api/v1/auth/login.",
    )


class TokenIssuer:
    """Makes bearer tokens for users; handed to controllers as the `tokens` dependency."""

    def __init__(self, jwt_auth: JWTAuth[Principal, Token], ttl_minutes: int) -> None:
        self._jwt_auth = jwt_auth
        self._ttl = dt.timedelta(minutes=ttl_minutes)

    def issue(self, user_id: uuid.UUID) -> tuple[str, dt.datetime]:
        """A signed token for `user_id` and the instant it expires."""
        token = self._jwt_auth.create_token(
            identifier=str(user_id),
            token_expiration=self._ttl,
            token_issuer=ISSUER,
            token_audience=AUDIENCE,
            token_unique_jwt_id=uuid.uuid4().hex,
        )
        return token, (dt.datetime.now(dt.UTC) + self._ttl).replace(microsecond=0)
