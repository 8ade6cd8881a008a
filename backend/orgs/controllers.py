from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, STAFF
from backend.auth.principal import Role
from backend.deps import Caller
from backend.fields import Limit, Offset
from backend.orgs import services
from backend.orgs.schemas import User, UserCreate, UserUpdate
from backend.paging import Page


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/", guards=STAFF, summary="Users: an admin sees the organisation, a supervisor their team")
    async def list_users(
        self,
        principal: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
        role: FromQuery[Role | None] = None,
        active: FromQuery[bool | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[User]:
        return await services.list_users(principal, limit=limit, offset=offset, role=role, active=active, q=q)

    @post("/", guards=ADMIN, summary="Create a user in the caller's organisation")
    async def create_user(self, data: JSONBody[UserCreate], principal: Caller) -> User:
        return await services.create_user(principal.org_id, data)

    @get("/{user_id:uuid}", guards=STAFF, summary="One user")
    async def get_user(self, user_id: FromPath[uuid.UUID], principal: Caller) -> User:
        return await services.get_user(principal, user_id)

    @patch(
        "/{user_id:uuid}",
        guards=ADMIN,
        summary="Change a user; `active: false` deactivates and logs them out",
    )
    async def update_user(self, user_id: FromPath[uuid.UUID], data: JSONBody[UserUpdate], principal: Caller) -> User:
        return await services.update_user(principal, user_id, data)
