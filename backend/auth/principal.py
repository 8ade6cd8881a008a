"""Who is calling: the authenticated user as every service sees it."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

Role = Literal["rep", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("rep", "supervisor", "admin")


class Principal(msgspec.Struct, frozen=True):
    user_id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    email: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def is_rep(self) -> bool:
        return self.role == "rep"
