"""Solve a planning problem: check it, let a solver order the day, time it, and say why every job left out was.

The solver only orders the steps (backend/planning/vroom_solver.py, pyvrp_solver.py); the times come from
backend/planning/schedule.py and the reasons for unplanned jobs from a test of each job alone, so an answer means
the same whichever solver found it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from msgspec.structs import replace

from backend.planning import pyvrp_solver, vroom_solver
from backend.planning.problem import Job, Problem, Route, Solution, Summary, Unassigned, Vehicle
from backend.planning.schedule import Infeasible, Scheduler, clock, merged_windows

log = logging.getLogger("fieldbook.planning")

# "auto" means VROOM. Measured on synthetic field days (60 optional stores in a 24 km wide city, 15-45 minute
# visits, a third open mornings only, a third afternoons only, some closed at lunch, 08:00-18:00 with a 45-minute
# lunch; five seeds; 2 cores), priority planned in total over the five days, and time taken:
#                   one rep                        three reps
#   limit    VROOM            PyVRP            VROOM            PyVRP
#   0.3 s    624 in 0.08 s    614 in 0.3 s     1417 in 0.19 s   1343 in 0.3 s
#   1 s      624 in 0.08 s    622 in 0.93 s    1418 in 0.47 s   1348 in 0.93 s
#   2 s      624 in 0.09 s    626 in 1.8 s     1418 in 0.5 s    1370 in 1.8 s
# VROOM is as good or better, mostly within a tenth of the time, and takes breaks natively (PyVRP's breaks are
# modelled or inserted by us). PyVRP is the better search where VROOM's heuristics are weak: it will trade one
# visit for two of lower priority but more value together (tests/backend/planning/test_solvers.py), and on
# large days cut to a short limit (400 stores, 15 reps, 0.3 s: 1593 against VROOM's 1553).
DEFAULT_SOLVER = "vroom"

SOLVERS: dict[str, Callable[[Problem], dict[str, list[str]]]] = {
    "vroom": vroom_solver.plan_routes,
    "pyvrp": pyvrp_solver.plan_routes,
}

# Below this, PyVRP's search has no time to improve on its first solution; "best" then keeps VROOM's plan.
MIN_PYVRP_S = 0.1

# Larger values are no travel time we can plan with, and VROOM reads the matrix as 32-bit unsigned integers.
MAX_MATRIX_VALUE = 2**31 - 1


def validate(problem: Problem) -> None:
    """Raise ValueError naming the first field that makes the problem unsolvable, e.g.
    "jobs[3].location: 57 is not a place (12 places)". The Struct has checked types and ranges already."""
    if problem.durations is None:
        raise ValueError("durations: required (fill the matrices from the locations first)")
    places = len(problem.durations)
    if problem.locations and len(problem.locations) != places:
        raise ValueError(f"locations: {len(problem.locations)} places, but durations has {places} rows")
    for name, matrix in (("durations", problem.durations), ("distances", problem.distances)):
        if matrix is None:
            continue
        if len(matrix) != places:
            raise ValueError(f"{name}: {len(matrix)} rows, expected {places} (one per place)")
        for i, row in enumerate(matrix):
            if len(row) != places:
                raise ValueError(f"{name}[{i}]: {len(row)} entries, expected {places} (one per place)")
            for j, value in enumerate(row):
                if not 0 <= value <= MAX_MATRIX_VALUE:
                    raise ValueError(f"{name}[{i}][{j}]: {value} is not between 0 and {MAX_MATRIX_VALUE}")
            if row[i] != 0:
                raise ValueError(f"{name}[{i}][{i}]: {row[i]}, but a place is 0 from itself")

    def place(field: str, index: int) -> None:
        if index >= places:
            raise ValueError(f"{field}: {index} is not a place ({places} place{'' if places == 1 else 's'})")

    job_ids: set[str] = set()
    for k, job in enumerate(problem.jobs):
        place(f"jobs[{k}].location", job.location)
        if job.id in job_ids:
            raise ValueError(f"jobs[{k}].id: {job.id!r} is used by another job")
        job_ids.add(job.id)
    vehicle_ids: set[str] = set()
    for k, vehicle in enumerate(problem.vehicles):
        place(f"vehicles[{k}].start", vehicle.start)
        if vehicle.end is not None:
            place(f"vehicles[{k}].end", vehicle.end)
        if vehicle.id in vehicle_ids:
            raise ValueError(f"vehicles[{k}].id: {vehicle.id!r} is used by another vehicle")
        vehicle_ids.add(vehicle.id)
        break_ids: set[str] = set()
        for b, brk in enumerate(vehicle.breaks):
            if brk.id in job_ids or brk.id in break_ids:
                raise ValueError(f"vehicles[{k}].breaks[{b}].id: {brk.id!r} is used by a job or another break")
            break_ids.add(brk.id)
        _check_breaks_fit(f"vehicles[{k}].breaks", vehicle)


def _check_breaks_fit(field: str, vehicle: Vehicle) -> None:
    """The breaks, taken one after the other as early as they may, must fit in the shift; else no day with a
    visit is possible (VROOM refuses such a vehicle outright: "Inconsistent breaks")."""
    now = vehicle.shift.start
    for brk in sorted(vehicle.breaks, key=lambda b: merged_windows(b.windows)[0].start):
        window = next((w for w in merged_windows(brk.windows) if now <= w.end), None)
        if window is None:
            raise ValueError(f"{field}: {brk.id!r} cannot start in time after the shift start and the other breaks")
        now = max(now, window.start) + brk.service_s
    if now > vehicle.shift.end:
        raise ValueError(f"{field}: the breaks cannot all be taken within the shift (ends {clock(vehicle.shift.end)})")


def solve(problem: Problem) -> Solution:
    """Plan the day: the timed route of every vehicle that visits at least one job, every job left out with a
    true reason, and totals. `problem.solver` "auto" means DEFAULT_SOLVER. ValueError names a bad field."""
    validate(problem)
    name = DEFAULT_SOLVER if problem.solver == "auto" else problem.solver
    scheduler = Scheduler(problem)
    started = time.perf_counter()
    if name == "best":
        name, routes = _best(problem, scheduler, started)
    else:
        routes = _routes(problem, scheduler, SOLVERS[name](problem), name)
    solve_ms = (time.perf_counter() - started) * 1000
    planned = {stop.id for route in routes for stop in route.stops if stop.kind == "job"}
    unassigned = [_why_unplanned(scheduler, problem.vehicles, job) for job in problem.jobs if job.id not in planned]
    summary = Summary(
        planned=len(planned),
        priority_planned=sum(job.priority for job in problem.jobs if job.id in planned),
        priority_total=sum(job.priority for job in problem.jobs),
        travel_s=sum(route.travel_s for route in routes),
        distance_m=sum(route.distance_m for route in routes),
    )
    return Solution(routes=routes, unassigned=unassigned, summary=summary, solver=name, solve_ms=round(solve_ms, 1))


def _routes(problem: Problem, scheduler: Scheduler, steps: dict[str, list[str]], name: str) -> list[Route]:
    timed = (_timed(scheduler, v, steps[v.id], name) for v in problem.vehicles if v.id in steps)
    return [route for route in timed if route is not None]


def _best(problem: Problem, scheduler: Scheduler, started: float) -> tuple[str, list[Route]]:
    """The portfolio ("best"): VROOM on half the time limit (it usually needs far less), PyVRP on what is left,
    and the better plan of the two (more priority, then less travel). Each wins some days (docs/planning.md 3)."""
    fast = _routes(
        problem, scheduler, vroom_solver.plan_routes(replace(problem, time_limit_s=problem.time_limit_s / 2)), "vroom"
    )
    left = problem.time_limit_s - (time.perf_counter() - started)
    if left < MIN_PYVRP_S:
        return "vroom", fast
    strong = _routes(problem, scheduler, pyvrp_solver.plan_routes(replace(problem, time_limit_s=left)), "pyvrp")
    return max((("vroom", fast), ("pyvrp", strong)), key=lambda named: _value(problem, named[1]))


def _value(problem: Problem, routes: list[Route]) -> tuple[int, int]:
    priority = {job.id: job.priority for job in problem.jobs}
    planned = sum(priority[stop.id] for route in routes for stop in route.stops if stop.kind == "job")
    return planned, -sum(route.travel_s for route in routes)


def _timed(scheduler: Scheduler, vehicle: Vehicle, steps: list[str], solver: str) -> Route | None:
    """The solver's order, timed; None when it holds no visit. A solver should never return an order our rules
    reject (the tests check that they don't); if one does, the failing visit (or, for a break or the return, the
    least valuable visit before it) is dropped and logged, so the rep still gets a day that works."""
    steps = list(steps)
    while any(step in scheduler.jobs for step in steps):
        try:
            return scheduler.route(vehicle, steps)
        except Infeasible as infeasible:
            log.warning("%s planned an infeasible day for %s: %s", solver, vehicle.id, infeasible.reason)
            at = infeasible.step
            if at < len(steps) and steps[at] in scheduler.jobs:
                del steps[at]
                continue
            before = [i for i in range(min(at, len(steps))) if steps[i] in scheduler.jobs]
            if not before:
                return None
            del steps[min(before, key=lambda i: (scheduler.jobs[steps[i]].priority, -i))]
    return None


def _why_unplanned(scheduler: Scheduler, vehicles: list[Vehicle], job: Job) -> Unassigned:
    """The true reason, from the job alone: closed; out of range (no rep can do it even as their only visit,
    breaks aside); else no time (it fits alone, not with the rest of the day)."""
    if job.windows == []:
        return Unassigned(job.id, "closed", "Closed that day.")
    reasons: list[str] = []
    for vehicle in vehicles:
        try:
            scheduler.route(vehicle, [job.id])
        except Infeasible as infeasible:
            reasons.append(infeasible.reason)
        else:
            return Unassigned(job.id, "no_time", "Fits in the day alone, but not with the visits planned.")
    who = "the rep" if len(vehicles) == 1 else "any rep"
    return Unassigned(job.id, "out_of_range", f"Out of reach for {who} even as the only visit: {reasons[0]}.")
