"""Dependencies every controller may ask for by name, and the annotations that ask for them."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from backend.auth.principal import Principal
from backend.auth.tokens import TokenIssuer
from backend.errors import Unauthorized
from backend.settings import Settings

Caller = NamedDependency[Principal]
SettingsDep = NamedDependency[Settings]
Tokens = NamedDependency[TokenIssuer]


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("Log in first")
    return user


def dependencies(settings: Settings, tokens: TokenIssuer) -> dict[str, Provide]:
    return {
        "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
        "tokens": Provide(lambda: tokens, use_cache=True, sync_to_thread=False),
        "principal": Provide(provide_principal, sync_to_thread=False),
    }
