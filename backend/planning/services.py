"""Planning a rep's day, a week, a team's day, and re-planning from where the rep is; storing the plans.

A stored plan is a `route_plan` per rep and day with its `route_stop`s, and one planned visit per stop, which
carries the stop's order and times (`planned_seq`, `planned_arrival_at`, `planned_departure_at`) and reaches the
rep's phone through sync. Planning a day again replaces its plan: planned visits that are no longer in it are
deleted (over sync too); visits that have started are never touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from backend.auth.principal import Principal
from backend.db import write_transaction
from backend.errors import FieldError, Invalid
from backend.planning import build, stored
from backend.planning import schemas as s
from backend.planning.beat import plan_beat
from backend.planning.build import PlanStore, Rep
from backend.planning.matrix import travel_matrices
from backend.planning.problem import Problem, Solution
from backend.planning.rules import PlanningRules, planning_rules, seconds_of
from backend.planning.solve import solve
from backend.settings import Settings
from backend.stores.services import visible_stores

DONE = ("checked_in", "checked_out", "skipped")


@dataclass
class Day:
    """One rep's day to plan: the stores, where it starts and ends, and what is already done."""

    rep: Rep
    date: dt.date
    stores: list[PlanStore]
    start: tuple[float, float]  # (lat, lng)
    end_home: bool
    from_s: int | None = None
    done: list[dict[str, Any]] = field(default_factory=list)


async def plan_day(principal: Principal, request: s.DayRequest, settings: Settings) -> s.Plan:
    [rep] = await build.reps(principal, [request.rep_id])
    rules = await planning_rules(principal.org_id)
    visits = await stored.day_visits(principal.org_id, rep, request.date)
    done = [v for v in visits if v["state"] in DONE]
    planned = [v["store_id"] for v in visits if v["state"] == "planned"]
    due = await _due(principal.org_id, rep, rules, request.date)
    extra = await build.stores_by_id(principal.org_id, request.store_ids, await visible_stores(principal))
    stores = _unique([*(await build.stores_by_id(principal.org_id, planned)), *due, *extra], exclude=done)
    start = (request.start.lat, request.start.lng) if request.start else _home(rep, "start")
    from_s = seconds_of(request.start_time) if request.start_time else None
    day = Day(rep, request.date, stores, start, rep.home is not None, from_s, done)
    solution, warning, source = await _solve([day], stores, rules, settings, request.solver)
    return await _save(principal.org_id, day, solution, warning, source)


async def replan(principal: Principal, request: s.ReplanRequest, settings: Settings) -> s.Plan:
    """From the rep's position and time: what is done stays, the rest is ordered again from here, and what no
    longer fits is said (and its planned visit removed)."""
    [rep] = await build.reps(principal, [request.rep_id])
    rules = await planning_rules(principal.org_id)
    visits = await stored.day_visits(principal.org_id, rep, request.date)
    done = [v for v in visits if v["state"] in DONE]
    remaining = await build.stores_by_id(principal.org_id, [v["store_id"] for v in visits if v["state"] == "planned"])
    if request.at.astimezone(ZoneInfo(rep.time_zone)).date() != request.date:
        # Another day's time would plan nothing (or everything) and drop the day's planned visits.
        raise Invalid(
            f"at: {request.at.isoformat()} is not on {request.date} in {rep.time_zone}",
            errors=[FieldError("at", f"not on {request.date} in the rep's time zone ({rep.time_zone})")],
        )
    from_s = build.local_seconds(request.at, request.date, rep.time_zone)
    start = (request.position.lat, request.position.lng)
    day = Day(rep, request.date, _unique(remaining, exclude=done), start, rep.home is not None, from_s, done)
    solution, warning, source = await _solve([day], day.stores, rules, settings, "auto")
    return await _save(principal.org_id, day, solution, warning, source)


async def plan_week(principal: Principal, request: s.WeekRequest, settings: Settings) -> s.WeekPlan:
    """The beat over the days (which stores on which day), then each day's route."""
    [rep] = await build.reps(principal, [request.rep_id])
    rules = await planning_rules(principal.org_id)
    last = request.start + dt.timedelta(days=request.days - 1)
    days = build.working_days(rules, request.start, last, request.days_off)
    beat_stores = await build.assigned_stores(principal.org_id, rep.id)
    beat = plan_beat(
        [b for store in beat_stores if (b := store.beat()) is not None],
        days,
        last_visits=await build.last_visits(principal.org_id, [st.id for st in beat_stores], rep.time_zone),
        minutes_per_day=rules.minutes_per_day,
    )
    by_id = {str(st.id): st for st in beat_stores}
    start = _home(rep, "start")
    plans = []
    for beat_day in beat.days:
        visits = await stored.day_visits(principal.org_id, rep, beat_day.date)
        done = [v for v in visits if v["state"] in DONE]
        stores = _unique([by_id[i] for i in beat_day.store_ids], exclude=done)
        day = Day(rep, beat_day.date, stores, start, True, None, done)
        solution, warning, source = await _solve([day], stores, rules, settings, "auto")
        plans.append(await _save(principal.org_id, day, solution, warning, source))
    return s.WeekPlan(plans=plans, beat=beat.summary, moved=beat.moved, unplannable=beat.unplannable)


async def plan_team(principal: Principal, request: s.TeamRequest, settings: Settings) -> s.TeamPlan:
    """Share a day's stores among several reps: one routing problem with a vehicle per rep."""
    reps = await build.reps(principal, request.rep_ids)
    rules = await planning_rules(principal.org_id)
    days, done_stores, pool = [], set(), []
    for rep in reps:
        visits = await stored.day_visits(principal.org_id, rep, request.date)
        done = [v for v in visits if v["state"] in DONE]
        done_stores |= {v["store_id"] for v in done}
        days.append(Day(rep, request.date, [], _home(rep, f"rep {rep.name}: start"), True, None, done))
        if not request.store_ids:  # by default: what is planned for the reps that day, and what is due
            planned = [v["store_id"] for v in visits if v["state"] == "planned"]
            pool += await build.stores_by_id(principal.org_id, planned)
            pool += await _due(principal.org_id, rep, rules, request.date)
    if request.store_ids:
        visible = await visible_stores(principal)
        pool = await build.stores_by_id(principal.org_id, request.store_ids, visible)
    pool = [st for st in _unique(pool) if st.id not in done_stores]
    # One problem: which rep visits each store is the solver's answer.
    solution, warning, source = await _solve(days, pool, rules, settings, "auto")
    plans, names = [], {str(st.id): st.name for st in pool}
    for day in days:
        mine = {stop.id for route in solution.routes if route.vehicle == str(day.rep.id) for stop in route.stops}
        day.stores = [st for st in pool if str(st.id) in mine]
        only = _only(solution, str(day.rep.id))
        plans.append(await _save(principal.org_id, day, only, warning, source, unassigned=False))
    unassigned = [
        s.UnplannedStore(uuid.UUID(u.id), names.get(u.id, ""), u.reason, u.detail) for u in solution.unassigned
    ]
    return s.TeamPlan(plans=plans, unassigned=unassigned)


def _only(solution: Solution, vehicle: str) -> Solution:
    return Solution(
        routes=[r for r in solution.routes if r.vehicle == vehicle],
        unassigned=[],
        summary=solution.summary,
        solver=solution.solver,
        solve_ms=solution.solve_ms,
    )


def _home(rep: Rep, what: str) -> tuple[float, float]:
    if rep.home is None:
        raise Invalid(
            f"{what}: {rep.name} has no home location; give a start position",
            code="planning.no_start",
        )
    return rep.home


def _unique(stores: Sequence[PlanStore], exclude: Sequence[dict[str, Any]] = ()) -> list[PlanStore]:
    done = {v["store_id"] for v in exclude}
    seen: dict[uuid.UUID, PlanStore] = {}
    for store in stores:
        if store.id not in done:
            seen.setdefault(store.id, store)
    return list(seen.values())


async def _due(org_id: uuid.UUID, rep: Rep, rules: PlanningRules, day: dt.date) -> list[PlanStore]:
    """The rep's stores due on `day`: the beat of its week (Monday to Sunday), that day's share."""
    monday = day - dt.timedelta(days=day.weekday())
    days = sorted({*build.working_days(rules, monday, monday + dt.timedelta(days=6)), day})
    stores = await build.assigned_stores(org_id, rep.id)
    beats = [b for store in stores if (b := store.beat()) is not None]
    if not beats:
        return []
    last = await build.last_visits(org_id, [st.id for st in stores], rep.time_zone)
    beat = plan_beat(beats, days, last_visits=last, minutes_per_day=rules.minutes_per_day)
    today = next((d.store_ids for d in beat.days if d.date == day), [])
    by_id = {str(st.id): st for st in stores}
    return [by_id[i] for i in today]


async def _solve(
    days: Sequence[Day], stores: Sequence[PlanStore], rules: PlanningRules, settings: Settings, solver: s.SolverName
) -> tuple[Solution, str | None, str]:
    """One problem on one date: each day's rep a vehicle (one rep, or a team), the stores its jobs."""
    points: list[tuple[float, float]] = []  # (lat, lng)

    def place(point: tuple[float, float]) -> int:
        points.append(point)
        return len(points) - 1

    vehicles = []
    for day in days:
        start = place(day.start)
        end = place(day.rep.home) if day.end_home and day.rep.home is not None else None
        # A re-plan keeps the lunch break while it can still start in its window: we cannot know it was taken.
        vehicles.append(build.vehicle_for(day.rep, rules, start, end, from_s=day.from_s))
    date = days[0].date
    jobs = [build.job_for(store, date, place((store.lat, store.lng))) for store in stores]
    matrices = await travel_matrices([[lng, lat] for lat, lng in points], rules.travel, settings)
    problem = Problem(
        jobs=jobs,
        vehicles=vehicles,
        locations=[[lng, lat] for lat, lng in points],
        durations=matrices.durations,
        distances=matrices.distances,
        time_limit_s=rules.time_limit_s,
        solver=solver,
    )
    solution = await asyncio.to_thread(solve, problem)
    return solution, matrices.warning, matrices.source


async def _save(
    org_id: uuid.UUID,
    day: Day,
    solution: Solution,
    warning: str | None,
    source: str,
    *,
    unassigned: bool = True,
) -> s.Plan:
    async with write_transaction():
        plan_id = await stored.save_day(
            org_id, day.rep, day.date, day.start, day.stores, day.done, solution, warning, source, unassigned
        )
    return await stored.load_plan(org_id, plan_id)
