"""Who sees which synced rows: the pull condition for a caller, and the audience of a row.

A rep sees org-wide rows and rows they own; a supervisor those, rows owned by their team, and rows in the
territories they supervise; an admin the whole organisation (docs/sync-protocol.md 5.3). The REST scopes are the
same (backend/stores/services.py visible_stores).
"""

from __future__ import annotations

import uuid

from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.orgs.tables import User
from backend.orgs.teams import team_rep_ids
from backend.stores.tables import Territory
from backend.sync_api.tables import SyncField


async def supervised_territories(principal: Principal) -> list[uuid.UUID]:
    rows = (
        await Territory.select(Territory.id)
        .where((Territory.org_id == principal.org_id) & (Territory.supervisor_id == principal.user_id))
        .run()
    )
    return [r["id"] for r in rows]


async def pull_condition(principal: Principal) -> Combinable:
    condition: Combinable = SyncField.org_id == principal.org_id
    if principal.is_admin:
        return condition
    scope: Combinable = (SyncField.org_wide == True) | (SyncField.owner_id == principal.user_id)  # noqa: E712
    if principal.is_supervisor:
        team = await team_rep_ids(principal)
        if team:
            scope |= SyncField.owner_id.is_in(team)
        territories = await supervised_territories(principal)
        if territories:
            scope |= SyncField.territory_id.is_in(territories)
    return condition & scope


async def audience(org_id: uuid.UUID, owner_id: uuid.UUID | None, territory_id: uuid.UUID | None) -> set[uuid.UUID]:
    """The non-admin users who see a row owned by `owner_id` in `territory_id` (admins see every row)."""
    users: set[uuid.UUID] = set()
    if owner_id is not None:
        users.add(owner_id)
        row = await User.select(User.supervisor_id).where((User.id == owner_id) & (User.org_id == org_id)).first().run()
        if row and row["supervisor_id"]:
            users.add(row["supervisor_id"])
    if territory_id is not None:
        row = await Territory.select(Territory.supervisor_id).where(Territory.id == territory_id).first().run()
        if row and row["supervisor_id"]:
            users.add(row["supervisor_id"])
    return users


def may_see(
    principal: Principal,
    team: set[uuid.UUID],
    territories: set[uuid.UUID],
    *,
    org_wide: bool,
    owner_id: uuid.UUID | None,
    territory_id: uuid.UUID | None,
) -> bool:
    """The pull condition for one row, in Python (for checking references in a push)."""
    if principal.is_admin or org_wide or owner_id == principal.user_id:
        return True
    return principal.is_supervisor and (owner_id in team or territory_id in territories)
