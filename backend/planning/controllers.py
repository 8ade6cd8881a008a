from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import ADMIN, EVERYONE, STAFF
from backend.deps import Caller, SettingsDep
from backend.errors import FieldError, Invalid
from backend.fields import check_days
from backend.planning import schemas as s
from backend.planning import services, stored
from backend.planning.rules import PlanningRules, planning_rules, set_planning_rules

MAX_RANGE_DAYS = 93


class PlanningController(Controller):
    path = "/api/v1/planning"
    tags = ["planning"]

    @get("/rules", guards=EVERYONE, summary="The organisation's working day, breaks, holidays and travel model")
    async def get_rules(self, principal: Caller) -> PlanningRules:
        return await planning_rules(principal.org_id)

    @put("/rules", guards=ADMIN, summary="Change the planning rules; they apply to plans made from now on")
    async def put_rules(self, principal: Caller, data: JSONBody[PlanningRules]) -> PlanningRules:
        return await set_planning_rules(principal.org_id, data)

    @post(
        "/day",
        guards=EVERYONE,
        status_code=200,
        summary="Plan a rep's day: the stores due, in order, with times; what cannot fit and why",
        description="Replaces the rep's plan for that day; its planned visits reach the phone through sync.",
    )
    async def day(self, principal: Caller, settings: SettingsDep, data: JSONBody[s.DayRequest]) -> s.Plan:
        return await services.plan_day(principal, data, settings)

    @post(
        "/replan",
        guards=EVERYONE,
        status_code=200,
        summary="Re-plan the rest of a day from the rep's position and time; done visits stay",
    )
    async def replan(self, principal: Caller, settings: SettingsDep, data: JSONBody[s.ReplanRequest]) -> s.Plan:
        return await services.replan(principal, data, settings)

    @post(
        "/week",
        guards=EVERYONE,
        status_code=200,
        summary="Plan several days: which stores are due on which day (the beat), then each day's route",
    )
    async def week(self, principal: Caller, settings: SettingsDep, data: JSONBody[s.WeekRequest]) -> s.WeekPlan:
        return await services.plan_week(principal, data, settings)

    @post(
        "/team",
        guards=STAFF,
        status_code=200,
        summary="Share a day's stores among several reps of the team and plan each rep's route",
    )
    async def team(self, principal: Caller, settings: SettingsDep, data: JSONBody[s.TeamRequest]) -> s.TeamPlan:
        return await services.plan_team(principal, data, settings)

    @get("/plans", guards=EVERYONE, summary="Stored plans of the caller's reps (a rep: their own) in a date range")
    async def plans(
        self,
        principal: Caller,
        date_from: FromQuery[dt.date],
        date_to: FromQuery[dt.date],
        rep_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[s.Plan]:
        check_days(date_from=date_from, date_to=date_to)
        if date_to < date_from:
            raise Invalid("date_to is before date_from", errors=[FieldError("date_to", "before date_from")])
        if (date_to - date_from).days >= MAX_RANGE_DAYS:
            raise Invalid(
                f"at most {MAX_RANGE_DAYS} days at a time",
                errors=[FieldError("date_to", f"more than {MAX_RANGE_DAYS} days after date_from")],
            )
        return await stored.find_plans(principal, rep_id, date_from, date_to)

    @get("/plans/{plan_id:uuid}", guards=EVERYONE, summary="One stored plan")
    async def plan(self, principal: Caller, plan_id: FromPath[uuid.UUID]) -> s.Plan:
        return await stored.find_plan(principal, plan_id)
