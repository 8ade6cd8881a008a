"""Per-organisation settings of shelf inspections: how the one inspection score weighs its parts, the price
tolerance for products without a must-stock rule, and the thresholds of out-of-stock alerts and reports.

The phone scores an inspection with the same weights as it is typed (offline), so every signed-in user can read
them; only an admin changes them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from backend.db import json_value
from backend.errors import NotFound
from backend.orgs.tables import Organization

Weight = Annotated[float, Meta(ge=0, le=100)]


class ScoreWeights(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Relative weights of the parts of the inspection score (docs/inspections.md). Parts that cannot be measured
    in an inspection are left out and the others' weights scaled up, so only the ratios matter."""

    assortment: Weight = 40.0
    availability: Weight = 20.0
    facings: Weight = 20.0
    price: Weight = 20.0
    share_of_shelf: Weight = 0.0

    def __post_init__(self) -> None:
        if not any(msgspec.structs.astuple(self)):
            raise ValueError("at least one weight must be above 0")


class InspectionRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    weights: ScoreWeights = msgspec.field(default_factory=ScoreWeights)
    default_price_tolerance_pct: Annotated[
        float, Meta(ge=0, le=100, description="Tolerance for products with a RRP but no must-stock rule")
    ] = 5.0
    remind_rep: Annotated[
        bool, Meta(description="A must-stock product out of stock reminds the rep at their next visit")
    ] = True
    alert_min_out_of_stock: Annotated[
        int,
        Meta(
            ge=0,
            le=1_000,
            description="Alert the supervisor once an inspection finds this many must-stock products out of "
            "stock (0: never)",
        ),
    ] = 1
    hotspot_min_stores: Annotated[
        int,
        Meta(ge=2, le=10_000, description="Reports surface a product out of stock in this many stores of a territory"),
    ] = 3
    expiry_warning_days: Annotated[
        int, Meta(ge=0, le=365, description="Reports list stock that expires within this many days")
    ] = 7


def rules_from(raw: Any) -> InspectionRules:
    """The rules stored in an organisation's `inspection_rules` column (JSON text or decoded)."""
    stored = json_value(raw)
    # Unknown keys (from a newer version) are dropped rather than breaking every push.
    known = {k: v for k, v in (stored or {}).items() if k in InspectionRules.__struct_fields__}
    return msgspec.convert(known, InspectionRules)


async def inspection_rules(org_id: uuid.UUID) -> InspectionRules:
    row = await Organization.select(Organization.inspection_rules).where(Organization.id == org_id).first().run()
    if row is None:
        raise NotFound("No such organisation")
    return rules_from(row["inspection_rules"])


async def set_inspection_rules(org_id: uuid.UUID, rules: InspectionRules) -> InspectionRules:
    await (
        Organization.update({Organization.inspection_rules: msgspec.to_builtins(rules)})
        .where(Organization.id == org_id)
        .run()
    )
    return rules
