"""Who sees which synced rows: the pull condition for a caller, and the audience of a row.

A rep sees org-wide rows and rows they own; a supervisor those, rows owned by their team, and rows in the
territories they supervise; an admin the whole organisation (docs/sync-protocol.md 5.3). The REST scopes are the
same (backend/stores/services.py visible_stores).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable

from backend.auth.principal import Principal
from backend.orgs.tables import User
from backend.orgs.teams import team_rep_ids
from backend.stores.tables import Territory
from backend.sync_api.tables import SyncBucket, SyncField


async def supervised_territories(principal: Principal) -> list[uuid.UUID]:
    rows = (
        await Territory.select(Territory.id)
        .where((Territory.org_id == principal.org_id) & (Territory.supervisor_id == principal.user_id))
        .run()
    )
    return [r["id"] for r in rows]


@dataclass(frozen=True)
class Scope:
    """What one caller sees, resolved once per request: the whole organisation (admins), or org-wide rows, their
    own rows, their team's rows and the rows of the territories they supervise."""

    org_id: uuid.UUID
    everything: bool
    owners: tuple[uuid.UUID, ...] = ()
    territories: tuple[uuid.UUID, ...] = ()

    def condition(self, table: type[SyncField] | type[SyncBucket]) -> Combinable:
        """The scope as a WHERE condition on `sync_field` or `sync_bucket` (same key columns)."""
        condition: Combinable = table.org_id == self.org_id
        if self.everything:
            return condition
        scope: Combinable = (table.org_wide == True) | table.owner_id.is_in(list(self.owners))  # noqa: E712
        if self.territories:
            scope |= table.territory_id.is_in(list(self.territories))
        return condition & scope

    def sees(self, *, org_wide: bool, owner_id: uuid.UUID | None, territory_id: uuid.UUID | None) -> bool:
        """The condition for one row, in Python (for checking the references in a push)."""
        return self.everything or org_wide or owner_id in self.owners or territory_id in self.territories

    def branches(self) -> list[tuple[str, list[Any]]]:
        """The scope as disjoint SQL conditions on `sync_field`, each a range scan of one index in `seq` order.

        One OR over the keys would make the database filter the organisation's rows one by one; a union of
        these branches reads only the caller's rows.
        """
        if self.everything:
            return [("org_id = {}", [self.org_id])]
        owners = ", ".join(["{}"] * len(self.owners))
        branches = [
            ("org_id = {} AND org_wide = true", [self.org_id]),
            (f"org_id = {{}} AND org_wide = false AND owner_id IN ({owners})", [self.org_id, *self.owners]),
        ]
        if self.territories:
            territories = ", ".join(["{}"] * len(self.territories))
            branches.append(
                (
                    f"org_id = {{}} AND org_wide = false AND territory_id IN ({territories}) "
                    f"AND (owner_id IS NULL OR owner_id NOT IN ({owners}))",
                    [self.org_id, *self.territories, *self.owners],
                )
            )
        return branches


async def scope_of(principal: Principal) -> Scope:
    if principal.is_admin:
        return Scope(principal.org_id, everything=True)
    owners = [principal.user_id]
    territories: list[uuid.UUID] = []
    if principal.is_supervisor:
        owners += await team_rep_ids(principal)
        territories = await supervised_territories(principal)
    return Scope(principal.org_id, everything=False, owners=tuple(owners), territories=tuple(territories))


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
