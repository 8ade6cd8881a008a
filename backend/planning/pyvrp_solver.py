"""Plan with PyVRP: the problem in, the order of each rep's visits and breaks out.

How our day maps onto PyVRP 0.14 (a prize-collecting VRP with time windows):

- Every open job is an optional client whose prize is its priority * U, the prize unit. PyVRP minimises travel
  plus the prizes it leaves out, i.e. it maximises U * (planned priority) - travel. U is 1 + the length of all
  the shifts together: no plan's travel can exceed that (travel happens inside working time), so no travel
  saving is worth one unit of priority, and the objective is the priority sum first, travel time second.
- A job with several windows becomes one client per window, all in one optional, mutually exclusive group: at
  most one of them is visited, and service begins inside its window (PyVRP's rule, and ours).
- Each rep is a vehicle type of one vehicle, with its own start and end depots and the shift as its time window.
  An open day (`end` None) ends at a dummy depot every place reaches in no time and at no cost, so the route
  ends when its last visit does.
- Travel time is PyVRP's "distance" (the cost it minimises) and its duration (what the time windows use).
- PyVRP has no breaks. With one rep (the usual case: a rep's own day), a break becomes a required group of
  clients, one per place the rep may be (each open job's place, the start, the end) and per window, with the
  break's length as service and no prize: exactly one is visited, so the search places the break itself. The
  travel PyVRP counts is never less than ours (schedule.py lets the rep drive on while early for a break; a
  break at a place off the route costs PyVRP a detour our timing does not charge), so what PyVRP finds feasible
  is feasible here. With several reps PyVRP could not tell whose break a clone is, so each shift is shortened
  by its breaks' total length (the time is reserved) and the breaks are inserted after the search.
- Afterwards every route is timed by backend/planning/schedule.py. A break missing or misplaced is put where
  the day ends earliest; when it fits nowhere, the lowest-priority visit goes (the one whose removal lets the
  breaks fit, else the latest of them) and we try again. Last, any time left (the reservation is cautious) is
  offered to the unplanned jobs, highest priority first, each at its cheapest feasible place, until the time
  limit.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from backend.planning.problem import Job, Problem, Vehicle, Window
from backend.planning.schedule import Infeasible, Scheduler, merged_windows

SEED = 20_260_101  # a fixed seed: the same problem gets the same plan
# The search gets this share of the time limit; the rest is for building the model, breaks and the last pass.
SEARCH_SHARE = 0.9
# PyVRP warns when its search struggles to stay feasible (tight windows do that); it is advice for someone
# tuning interactively, and our answer is checked by schedule.py anyway, so keep it out of the server's logs.
warnings.filterwarnings("ignore", category=PenaltyBoundWarning)
_NO_LIMIT = int(np.iinfo(np.int64).max)  # PyVRP's own default for an open time window


def prize_unit(problem: Problem) -> int:
    """The prize of one unit of priority: more than any plan's total travel (see the module docstring)."""
    return 1 + sum(v.shift.end - v.shift.start for v in problem.vehicles)


def plan_routes(problem: Problem) -> dict[str, list[str]]:
    """The order of job and break ids for each vehicle id that visits at least one job, found within
    `problem.time_limit_s`. Closed jobs (`windows == []`) are never planned."""
    started = time.perf_counter()
    deadline = started + problem.time_limit_s
    scheduler = Scheduler(problem)
    jobs = [job for job in problem.jobs if job.windows != []]
    if not jobs:
        return {}
    data, owner = _model(problem, jobs)
    search_s = max(0.01, problem.time_limit_s * SEARCH_SHARE - (time.perf_counter() - started))
    result = pyvrp.solve(
        data, MaxRuntime(search_s), seed=SEED, collect_stats=False, display=False, params=_params(problem)
    )
    visits: dict[str, list[str]] = {}
    for route in result.best.routes():
        vehicle = problem.vehicles[route.vehicle_type()]
        visits[vehicle.id] = [owner[activity.idx] for activity in route if activity.is_client()]
    # If the search found no feasible plan, its best still goes through the same repair: visits are dropped
    # until schedule.py accepts the day.
    routes = {v.id: _with_breaks(scheduler, v, visits.get(v.id, [])) for v in problem.vehicles}
    _fill(scheduler, problem.vehicles, jobs, routes, deadline)
    return {vehicle: steps for vehicle, steps in routes.items() if any(s in scheduler.jobs for s in steps)}


def _params(problem: Problem) -> pyvrp.SolveParams:
    """PyVRP's penalty for a second of time warp moves (adaptively) between U/100 and 200 U, around the prize
    of a priority-100 visit. Its default range (0.1 to 100 000) suits costs on the scale of travel; against our
    prizes a priority-100 visit would be worth some 30 seconds of time warp even at the top, and the search would
    keep drifting into infeasible plans."""
    unit = prize_unit(problem)
    return pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(min_penalty=unit / 100, max_penalty=200 * unit))


def _break_places(vehicle: Vehicle, jobs: Sequence[Job]) -> list[int]:
    """Where `vehicle` may be when a break starts: any open job's place, its start, its end."""
    return sorted({vehicle.start, *(job.location for job in jobs), *([] if vehicle.end is None else [vehicle.end])})


def _model(problem: Problem, jobs: Sequence[Job]) -> tuple[pyvrp.ProblemData, list[str]]:
    """PyVRP's data for the open jobs, and the job or break id of each PyVRP client."""
    assert problem.durations is not None
    places = len(problem.durations)
    # Locations: the places, then a dummy end if some day is open (`end` None).
    origin = list(range(places))
    dummy = None
    if any(vehicle.end is None for vehicle in problem.vehicles):
        dummy = len(origin)
        origin.append(0)
    matrix = np.asarray(problem.durations, dtype=np.int64)[np.ix_(origin, origin)]
    if dummy is not None:
        matrix[:, dummy] = 0  # reaching the open end is free: the day ends where its last visit does
        matrix[dummy, :] = 0  # (and nothing leaves it)
    # With one rep its breaks are clients; with several their time is reserved (see the module docstring).
    breaks_in_model = len(problem.vehicles) == 1

    coordinates = problem.locations if len(problem.locations) == places else [[0.0, 0.0]] * places
    locations = [pyvrp.Location(x=coordinates[o][0], y=coordinates[o][1]) for o in origin]

    depots: list[pyvrp.Depot] = []
    depot_at: dict[int, int] = {}

    def depot(location: int) -> int:
        if location not in depot_at:
            depot_at[location] = len(depots)
            depots.append(pyvrp.Depot(location=location))
        return depot_at[location]

    vehicle_types = []
    for vehicle in problem.vehicles:
        reserved = 0 if breaks_in_model else sum(b.service_s for b in vehicle.breaks)
        end = dummy if vehicle.end is None else vehicle.end
        assert end is not None
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=1,
                start_depot=depot(vehicle.start),
                end_depot=depot(end),
                tw_early=vehicle.shift.start,
                tw_late=max(vehicle.shift.start, vehicle.shift.end - reserved),
                unit_distance_cost=1,
                unit_duration_cost=0,
                name=vehicle.id,
            )
        )

    unit = prize_unit(problem)
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    owner: list[str] = []

    def add(location: int, service_s: int, window: Window | None, prize: int, group: int | None, name: str) -> None:
        clients.append(
            pyvrp.Client(
                location=location,
                service_duration=service_s,
                tw_early=0 if window is None else window.start,
                tw_late=_NO_LIMIT if window is None else window.end,
                prize=prize,
                required=False,
                group=group,
                name=name,
            )
        )
        owner.append(name)

    for job in jobs:
        windows: list[Window | None] = [None] if job.windows is None else list(merged_windows(job.windows))
        group = None
        if len(windows) > 1:  # one clone per window, at most one of them visited
            group = len(groups)
            groups.append(pyvrp.ClientGroup(list(range(len(clients), len(clients) + len(windows))), required=False))
        for window in windows:
            add(job.location, job.service_s, window, job.priority * unit, group, job.id)
    if breaks_in_model:
        # A break is one clone per place the rep may be and per window, exactly one of them visited.
        for vehicle in problem.vehicles:
            for brk in vehicle.breaks:
                first = len(clients)
                for place in _break_places(vehicle, jobs):
                    for window in merged_windows(brk.windows):
                        add(place, brk.service_s, window, 0, len(groups), brk.id)
                groups.append(pyvrp.ClientGroup(list(range(first, len(clients))), required=True))
    matrices: list[Any] = [matrix]  # PyVRP's stub says ndarray[int], which numpy's types cannot spell
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, matrices, matrices, groups)
    return data, owner


def _insert_breaks(scheduler: Scheduler, vehicle: Vehicle, visits: list[str]) -> list[str] | None:
    """`visits` with the vehicle's breaks put in, each where the day ends earliest; None if one fits nowhere.

    Breaks go in one at a time (by when they may start), each timed with the ones already placed."""
    steps = list(visits)
    for brk in sorted(vehicle.breaks, key=lambda b: merged_windows(b.windows)[0].start):
        best: tuple[int, list[str]] | None = None
        for position in range(len(steps) + 1):
            candidate = [*steps[:position], brk.id, *steps[position:]]
            try:
                end = scheduler.route(vehicle, candidate).stops[-1].arrival
            except Infeasible:
                continue
            if best is None or end < best[0]:
                best = (end, candidate)
        if best is None:
            return None
        steps = best[1]
    return steps if scheduler.fits(vehicle, steps) else None


def _with_breaks(scheduler: Scheduler, vehicle: Vehicle, steps: list[str]) -> list[str]:
    """The search's steps, kept if they are a feasible day with every break; else the visits with the breaks
    inserted, dropping the lowest-priority visits until the day is feasible."""
    visits = [step for step in steps if step in scheduler.jobs]
    if len(steps) == len(visits) + len(vehicle.breaks) and scheduler.fits(vehicle, steps):
        return list(steps)
    while visits:
        with_breaks = _insert_breaks(scheduler, vehicle, visits)
        if with_breaks is not None:
            return with_breaks
        # The least valuable first; among equals, the latest in the day.
        order = sorted(range(len(visits)), key=lambda i: (scheduler.jobs[visits[i]].priority, -i))
        for index in order:
            with_breaks = _insert_breaks(scheduler, vehicle, visits[:index] + visits[index + 1 :])
            if with_breaks is not None:
                return with_breaks
        del visits[order[0]]
    return []


def _fill(
    scheduler: Scheduler,
    vehicles: Sequence[Vehicle],
    jobs: Sequence[Job],
    routes: dict[str, list[str]],
    deadline: float,
) -> None:
    """Offer the unplanned jobs, highest priority first, their cheapest feasible place in any route (in place)."""
    planned = {step for steps in routes.values() for step in steps}
    for job in sorted((j for j in jobs if j.id not in planned), key=lambda j: -j.priority):
        best: tuple[int, str, list[str]] | None = None
        for vehicle in vehicles:
            if time.perf_counter() > deadline:
                return
            steps = routes[vehicle.id]
            if not any(step in scheduler.jobs for step in steps):
                candidate = _insert_breaks(scheduler, vehicle, [job.id])
                if candidate is not None:
                    added = scheduler.route(vehicle, candidate).travel_s
                    if best is None or added < best[0]:
                        best = (added, vehicle.id, candidate)
                continue
            found = _cheapest_insertion(scheduler, vehicle, steps, job)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], vehicle.id, found[1])
        if best is not None:
            routes[best[1]] = best[2]


def _cheapest_insertion(
    scheduler: Scheduler, vehicle: Vehicle, steps: list[str], job: Job
) -> tuple[int, list[str]] | None:
    """(added travel, new steps) for `job` at its cheapest feasible place in `steps`, or None.

    Places are tried from the smallest detour up, so the first feasible one is the cheapest; a place where the
    rep could not even reach the job before its last window closes is skipped without timing the whole day."""
    route = scheduler.route(vehicle, steps)
    durations = scheduler.durations
    windows = scheduler.windows[job.id]
    latest = None if windows is None else windows[-1].end
    here = job.location
    candidates: list[tuple[int, int]] = []
    previous, left = vehicle.start, route.stops[0].departure  # the last place before the position, and when
    for position in range(len(steps) + 1):
        stop = route.stops[position]  # the stop just before the position: start, a visit or a break
        if stop.location is not None:
            previous, left = stop.location, stop.departure
        if latest is not None and left + durations[previous][here] > latest:
            continue  # even driving straight there from the last place, the rep would come too late
        following = next((s.location for s in route.stops[position + 1 :] if s.kind == "job"), vehicle.end)
        if following is None:  # an open day that would now end at this job
            detour = durations[previous][here]
        else:
            detour = durations[previous][here] + durations[here][following] - durations[previous][following]
        candidates.append((detour, position))
    for _, position in sorted(candidates):
        candidate = [*steps[:position], job.id, *steps[position:]]
        try:
            added = scheduler.route(vehicle, candidate).travel_s - route.travel_s
        except Infeasible:
            continue
        return added, candidate
    return None
