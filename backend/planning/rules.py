"""Per-organisation planning settings: the working day, the lunch break, working weekdays and holidays, the
travel model, and how long the solver may think. Every signed-in user can read them (the phone shows the day
they shape); only an admin changes them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from backend.db import json_value
from backend.errors import NotFound
from backend.orgs.tables import Organization
from backend.planning.matrix import TravelModel
from backend.stores.schemas import HHMM, Weekday


def seconds_of(hhmm: str) -> int:
    """ "HH:MM" (local time, "24:00" allowed) as seconds from midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


class LunchBreak(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A break of `minutes` starting between `earliest` and `latest` (local time), wherever the rep is."""

    earliest: HHMM = "11:30"
    latest: HHMM = "13:30"
    minutes: Annotated[int, Meta(ge=5, le=180)] = 45

    def __post_init__(self) -> None:
        if self.latest < self.earliest:
            raise ValueError(f"latest ({self.latest}) is before earliest ({self.earliest})")


class PlanningRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    day_start: HHMM = "08:30"
    day_end: HHMM = "17:30"
    lunch: LunchBreak | None = msgspec.field(default_factory=LunchBreak)
    working_weekdays: Annotated[list[Weekday], Meta(min_length=1, max_length=7)] = msgspec.field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    holidays: Annotated[list[dt.date], Meta(max_length=366)] = msgspec.field(default_factory=list)
    travel: TravelModel = msgspec.field(default_factory=TravelModel)
    # A day's route: how long the solver may search. Week and team plans share out a multiple of it.
    time_limit_s: Annotated[float, Meta(ge=0.1, le=30)] = 1.0
    # The beat plan's daily capacity (visits and an allowance for travel), in minutes.
    minutes_per_day: Annotated[int, Meta(ge=60, le=960)] = 420

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError(f"day_end ({self.day_end}) must be after day_start ({self.day_start})")

    @property
    def shift_s(self) -> tuple[int, int]:
        return seconds_of(self.day_start), seconds_of(self.day_end)

    def lunch_s(self) -> tuple[int, int, int] | None:
        """(earliest start, latest start, duration) in seconds from midnight, or None without a lunch break."""
        if self.lunch is None:
            return None
        return seconds_of(self.lunch.earliest), seconds_of(self.lunch.latest), self.lunch.minutes * 60


def rules_from(raw: Any) -> PlanningRules:
    stored = json_value(raw)
    known = {k: v for k, v in (stored or {}).items() if k in PlanningRules.__struct_fields__}
    return msgspec.convert(known, PlanningRules)


async def planning_rules(org_id: uuid.UUID) -> PlanningRules:
    row = await Organization.select(Organization.planning_rules).where(Organization.id == org_id).first().run()
    if row is None:
        raise NotFound("No such organisation")
    return rules_from(row["planning_rules"])


async def set_planning_rules(org_id: uuid.UUID, rules: PlanningRules) -> PlanningRules:
    await (
        Organization.update({Organization.planning_rules: msgspec.to_builtins(rules)})
        .where(Organization.id == org_id)
        .run()
    )
    return rules
