"""Plan with VROOM (pyvroom): the problem in, the order of each rep's visits and breaks out.

VROOM models our day natively: a duration matrix, several time windows per job (service begins inside one),
breaks taken wherever the rep is, open-ended routes (no `end`), and priorities. Its objective is hierarchical:
the sum of the planned jobs' priorities first, then the number of planned jobs, then cost; we make the cost the
duration matrix, so the last criterion is travel time. (PyVRP, with no count criterion, goes straight from
priority to travel; the two differ only between plans of equal priority.)

Times are computed again by backend/planning/schedule.py, whose rules are VROOM's; this module returns only the
order.
"""

from __future__ import annotations

import os
from datetime import timedelta

import numpy as np
import vroom

from backend.planning.problem import Problem
from backend.planning.schedule import merged_windows

# VROOM's search effort (exploration level 0..5) has no time budget of its own: VROOM stops its search at the
# problem's time limit (its `timeout`), and a high level cut short plans much worse than a low level that
# finishes. So the level is the highest whose search should fit in the limit, by the size of the search
# (open jobs x vehicles). Measured on synthetic field days (2 cores), unlimited, the time a level needs:
#     jobs x vehicles     60 x 1    60 x 3    200 x 8    400 x 15
#     level 0                  -         -     0.45 s       6.4 s
#     level 1              0.03 s    0.08 s    1.1 s       13 s
#     level 3              0.08 s    0.3 s     3.8 s       25 s
#     level 5              0.15 s    1.0 s     12 s        28+ s
# and cut to 0.3 s, 400 x 15 planned priority 1507 at level 0 but 1250 at level 5.
# The levels each second of the limit affords, as (level, jobs x vehicles per second):
LEVELS = ((5, 200), (3, 600), (1, 1_500))
# Without windows the search is wider: kroA100 (99 stops, no windows, one vehicle) needs 2.3 s at level 5 and
# 0.92 s at level 3, about 4.5 times the time of a field day of that size (bench/planning.py, TSPLIB).
WINDOWLESS = 4
# VROOM splits its heuristics over threads; more than the machine has only adds switching.
THREADS = max(1, min(4, os.cpu_count() or 1))

_PROFILE = "car"


def exploration_level(jobs: int, vehicles: int, time_limit_s: float, open_jobs: int = 0) -> int:
    """The most thorough level whose search should end within the time limit (see LEVELS). `open_jobs` of the
    `jobs` have no time window: windows prune VROOM's search, so each of those counts WINDOWLESS times."""
    size = (jobs + (WINDOWLESS - 1) * open_jobs) * vehicles
    for level, per_second in LEVELS:
        if size <= per_second * time_limit_s:
            return level
    return 0


def plan_routes(problem: Problem) -> dict[str, list[str]]:
    """The order of job and break ids for each vehicle id that visits at least one job. Closed jobs
    (`windows == []`) are left out before VROOM sees them."""
    if problem.durations is None:
        raise ValueError("durations: required")
    jobs = [job for job in problem.jobs if job.windows != []]
    if not jobs:
        return {}
    vrp = vroom.Input()
    matrix = np.asarray(problem.durations, dtype=np.uint32)
    vrp.set_durations_matrix(_PROFILE, matrix)
    # Cost = travel seconds, so after priority and count VROOM minimises travel time.
    vrp.set_costs_matrix(_PROFILE, matrix)

    # VROOM ids are integers: a job's is its index in `jobs`, a break's its index in `break_ids`.
    break_ids: list[str] = []
    for v, vehicle in enumerate(problem.vehicles):
        breaks = []
        # VROOM takes a vehicle's breaks in the order given; the natural one is by when they may start.
        for b in sorted(vehicle.breaks, key=lambda b: merged_windows(b.windows)[0].start):
            breaks.append(
                vroom.Break(
                    len(break_ids),
                    time_windows=[vroom.TimeWindow(w.start, w.end) for w in merged_windows(b.windows)],
                    service=b.service_s,
                )
            )
            break_ids.append(b.id)
        vrp.add_vehicle(
            vroom.Vehicle(
                v,
                start=vehicle.start,
                end=vehicle.end,
                profile=_PROFILE,
                time_window=vroom.TimeWindow(vehicle.shift.start, vehicle.shift.end),
                breaks=breaks,
            )
        )
    vrp.add_job(
        [
            vroom.Job(
                j,
                location=job.location,
                default_service=job.service_s,
                priority=job.priority,
                time_windows=[]
                if job.windows is None
                else [vroom.TimeWindow(w.start, w.end) for w in merged_windows(job.windows)],
            )
            for j, job in enumerate(jobs)
        ]
    )
    solution = vrp.solve(
        exploration_level=exploration_level(
            len(jobs), len(problem.vehicles), problem.time_limit_s, sum(1 for job in jobs if job.windows is None)
        ),
        nb_threads=THREADS,
        timeout=timedelta(seconds=problem.time_limit_s),
    )
    # The steps as a table (vehicle_id, type, id), in route order; read without the stdout juggling to_dict does.
    steps = solution.routes
    if "id" not in steps.columns:  # pyvroom drops the column when no route has a step with an id: none planned
        return {}
    routes: dict[str, list[str]] = {}
    for vehicle_id, kind, step_id in zip(steps["vehicle_id"], steps["type"], steps["id"], strict=True):
        route = routes.setdefault(problem.vehicles[int(vehicle_id)].id, [])
        if kind == "job":
            route.append(jobs[int(step_id)].id)
        elif kind == "break":
            route.append(break_ids[int(step_id)])
    job_ids = {job.id for job in jobs}
    return {vehicle_id: route for vehicle_id, route in routes.items() if job_ids.intersection(route)}
