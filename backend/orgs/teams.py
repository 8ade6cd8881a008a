"""Team membership: which reps a caller's work covers."""

from __future__ import annotations

import uuid

from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.orgs.tables import User


async def team_rep_ids(principal: Principal) -> list[uuid.UUID]:
    """The reps whose work the caller may see: a supervisor's team, an admin's whole organisation."""
    if principal.is_rep:
        return [principal.user_id]
    condition: Combinable = (User.org_id == principal.org_id) & (User.role == "rep")
    if principal.is_supervisor:
        condition &= User.supervisor_id == principal.user_id
    rows = await User.select(User.id).where(condition).run()
    return [row["id"] for row in rows]
