"""Role guards for route handlers. Anonymous callers never get here: the JWT middleware answers 401 first."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from backend.auth.principal import Principal, Role
from backend.errors import Forbidden


def allow(*roles: Role) -> Guard:
    """A guard that admits only the given roles (403 `auth.forbidden` otherwise)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if not isinstance(user, Principal) or user.role not in roles:
            raise Forbidden(f"This needs the role {' or '.join(roles)}")

    guard.__name__ = f"allow_{'_'.join(roles)}"
    return guard


ADMIN = [allow("admin")]
STAFF = [allow("supervisor", "admin")]
EVERYONE = [allow("rep", "supervisor", "admin")]
