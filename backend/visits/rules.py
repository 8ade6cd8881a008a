"""Per-organisation thresholds for judging check-ins: the fence verdict and the plausibility flags.

The phone judges a check-in with the same thresholds the moment it is made (offline), so they are part of what
every signed-in user can read; only an admin changes them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from backend.db import json_value
from backend.errors import NotFound
from backend.orgs.tables import Organization


class VisitRules(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    fence_tolerance_m: Annotated[float, Meta(ge=0, le=1_000, description="Slack added to every fence")] = 25.0
    max_accuracy_m: Annotated[
        float, Meta(ge=5, le=5_000, description="A fix less accurate than this is at best `uncertain`")
    ] = 150.0
    max_speed_kmh: Annotated[
        float, Meta(ge=10, le=1_200, description="Implied speed from the previous fix above this is flagged")
    ] = 150.0
    same_place_hours: Annotated[
        float, Meta(ge=0.1, le=720, description="Identical coordinates this far apart in time are flagged")
    ] = 1.0
    device_time_minutes: Annotated[
        float, Meta(ge=1, le=1_440, description="Device time this far from the sync clock or arrival is flagged")
    ] = 10.0
    checkout_distance_m: Annotated[
        float, Meta(ge=10, le=50_000, description="A check-out this far from its check-in is flagged")
    ] = 300.0


async def visit_rules(org_id: uuid.UUID) -> VisitRules:
    row = await Organization.select(Organization.visit_rules).where(Organization.id == org_id).first().run()
    if row is None:
        raise NotFound("No such organisation")
    return rules_from(row["visit_rules"])


def rules_from(raw: Any) -> VisitRules:
    """The rules stored in an organisation's `visit_rules` column (JSON text or decoded)."""
    stored = json_value(raw)
    # Unknown keys (from a newer version) are dropped rather than breaking every check-in.
    known = {k: v for k, v in (stored or {}).items() if k in VisitRules.__struct_fields__}
    return msgspec.convert(known, VisitRules)


async def set_visit_rules(org_id: uuid.UUID, rules: VisitRules) -> VisitRules:
    await (
        Organization.update({Organization.visit_rules: msgspec.to_builtins(rules)})
        .where(Organization.id == org_id)
        .run()
    )
    return rules
