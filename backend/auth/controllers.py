from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from backend.auth import services
from backend.auth.guards import EVERYONE
from backend.auth.schemas import LoginRequest, LoginResponse, Me, PasswordChange
from backend.auth.throttle import client_address
from backend.deps import Caller, SettingsDep, Tokens
from backend.orgs.services import get_organization, get_user_by_id


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/login", summary="Log in with email and password; returns a bearer token", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        settings: SettingsDep,
        tokens: Tokens,
    ) -> LoginResponse:
        address = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            settings.trusted_proxies,
        )
        user = await services.authenticate(settings, data.email, data.password, address)
        token, expires_at = tokens.issue(user.id)
        return LoginResponse(access_token=token, token_type="Bearer", expires_at=expires_at, user=user)

    @get("/me", guards=EVERYONE, summary="The caller and their organisation")
    async def me(self, principal: Caller) -> Me:
        return Me(
            user=await get_user_by_id(principal.user_id),
            organization=await get_organization(principal.org_id),
        )

    @post(
        "/me/password",
        guards=EVERYONE,
        status_code=200,
        summary="Change the caller's password; every earlier token stops working, a new one is returned",
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        principal: Caller,
        settings: SettingsDep,
        tokens: Tokens,
    ) -> LoginResponse:
        user_id = await services.change_password(principal, data.current_password, data.new_password)
        token, expires_at = tokens.issue(user_id)
        return LoginResponse(
            access_token=token, token_type="Bearer", expires_at=expires_at, user=await get_user_by_id(user_id)
        )
