"""An independent check that a solution keeps every rule of its problem; the tests run it on both solvers'
answers. It shares no code with schedule.py or solve.py on purpose: it recomputes every leg from the matrices
and tests each rule directly, so a mistake in the timing rule or in the reasons cannot hide itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.planning.problem import Job, Problem, Route, Solution, Vehicle, Window


def _inside(time: int, windows: Sequence[Window] | None) -> bool:
    return windows is None or any(w.start <= time <= w.end for w in windows)


def doable_alone(problem: Problem, vehicle: Vehicle, job: Job) -> bool:
    """Whether `vehicle` could make `job` its only visit: leave at the shift start, begin inside a window
    (waiting if early), finish, and be back at the end (if any), all by the shift end. Breaks aside."""
    assert problem.durations is not None
    shift = vehicle.shift
    arrival = shift.start + problem.durations[vehicle.start][job.location]
    if job.windows is None:
        begin = arrival
    else:
        begins = [max(arrival, w.start) for w in job.windows if arrival <= w.end]
        if not begins:
            return False
        begin = min(begins)
    finish = begin + job.service_s
    back = finish + (0 if vehicle.end is None else problem.durations[job.location][vehicle.end])
    return finish <= shift.end and back <= shift.end


def check(problem: Problem, solution: Solution) -> list[str]:
    """Every broken rule, one sentence each; empty when the solution is valid."""
    found: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    planned: dict[str, str] = {}
    routed: set[str] = set()
    for r, route in enumerate(solution.routes):
        vehicle = vehicles.get(route.vehicle)
        if vehicle is None:
            found.append(f"routes[{r}]: no vehicle {route.vehicle!r}")
            continue
        if vehicle.id in routed:
            found.append(f"routes[{r}]: a second route for {vehicle.id!r}")
        routed.add(vehicle.id)
        found += check_route(problem, vehicle, route, f"routes[{r}] ({vehicle.id})")
        for stop in route.stops:
            if stop.kind != "job":
                continue
            if stop.id in planned:
                found.append(f"job {stop.id!r} planned twice ({planned[stop.id]} and {vehicle.id})")
            planned[stop.id] = vehicle.id
            job = jobs.get(stop.id)
            if job is not None and job.windows == []:
                found.append(f"job {stop.id!r} is closed that day but planned")
    found += _check_unassigned(problem, solution, planned)
    found += _check_summary(problem, solution, planned)
    return found


def check_route(problem: Problem, vehicle: Vehicle, route: Route, where: str = "route") -> list[str]:
    """Every rule one timed route breaks: legs against the matrices, windows, the shift, breaks, totals."""
    assert problem.durations is not None
    found: list[str] = []
    stops = route.stops
    if len(stops) < 2 or stops[0].kind != "start" or stops[-1].kind != "end":
        return [f"{where}: must run from a start stop to an end stop"]
    jobs = {job.id: job for job in problem.jobs}
    breaks = {b.id: b for b in vehicle.breaks}
    shift = vehicle.shift
    first, last = stops[0], stops[-1]
    if first.location != vehicle.start or first.begin < shift.start or first.departure < first.begin:
        found.append(f"{where}: the day must start at place {vehicle.start} no earlier than {shift.start}")
    if last.arrival > shift.end:
        found.append(f"{where}: back at {last.arrival}, after the shift ends at {shift.end}")
    places = [stop.location for stop in stops[:-1] if stop.kind != "break"]
    end = places[-1] if vehicle.end is None else vehicle.end
    if last.location != end:
        found.append(f"{where}: ends at place {last.location}, expected {end}")

    leg_from, leg_s, leg_m = vehicle.start, 0, 0
    taken: list[str] = []
    for i, stop in enumerate(stops[1:], start=1):
        previous = stops[i - 1]
        at = f"{where} stop {i} ({stop.kind} {stop.id})"
        if stop.travel_s < 0 or stop.distance_m < 0:
            found.append(f"{at}: negative travel or distance")
        if stop.arrival < previous.departure + stop.travel_s:
            found.append(f"{at}: arrives at {stop.arrival}, before {previous.departure} + {stop.travel_s} of travel")
        if not stop.arrival <= stop.begin <= stop.departure:
            found.append(f"{at}: needs arrival <= begin <= departure")
        if stop.departure > shift.end:
            found.append(f"{at}: ends at {stop.departure}, after the shift ends at {shift.end}")
        leg_s += stop.travel_s
        leg_m += stop.distance_m
        if stop.kind == "break":
            brk = breaks.get(stop.id)
            if brk is None:
                found.append(f"{at}: not a break of {vehicle.id!r}")
                continue
            taken.append(stop.id)
            if stop.location is not None:
                found.append(f"{at}: a break has no place of its own")
            if not _inside(stop.begin, brk.windows):
                found.append(f"{at}: begins at {stop.begin}, outside its windows")
            if stop.departure - stop.begin != brk.service_s:
                found.append(f"{at}: lasts {stop.departure - stop.begin} s, not {brk.service_s}")
            continue
        if stop.kind == "job":
            job = jobs.get(stop.id)
            if job is None:
                found.append(f"{at}: no such job")
                continue
            if stop.location != job.location:
                found.append(f"{at}: at place {stop.location}, but the job is at {job.location}")
            if not _inside(stop.begin, job.windows) or job.windows == []:
                found.append(f"{at}: begins at {stop.begin}, outside the job's windows")
            if stop.departure - stop.begin != job.service_s:
                found.append(f"{at}: lasts {stop.departure - stop.begin} s, not {job.service_s}")
        elif stop.kind != "end":
            found.append(f"{at}: a {stop.kind} stop in the middle of the day")
            continue
        # A place: the leg from the previous place is done; its pieces must add up to the matrices.
        place = stop.location if stop.location is not None else -1
        if not 0 <= place < len(problem.durations):
            found.append(f"{at}: {place} is not a place")
            continue
        if leg_s != problem.durations[leg_from][place]:
            found.append(
                f"{at}: travel {leg_s} s from place {leg_from}, the matrix says {problem.durations[leg_from][place]}"
            )
        expected_m = 0 if problem.distances is None else problem.distances[leg_from][place]
        if leg_m != expected_m:
            found.append(f"{at}: distance {leg_m} m from place {leg_from}, the matrix says {expected_m}")
        leg_from, leg_s, leg_m = place, 0, 0

    if sorted(taken) != sorted(set(taken)):
        found.append(f"{where}: a break taken twice")
    if any(stop.kind == "job" for stop in stops) and set(taken) != set(breaks):
        found.append(f"{where}: breaks taken {sorted(taken)}, expected {sorted(breaks)}")
    totals = {
        "travel_s": sum(s.travel_s for s in stops),
        "distance_m": sum(s.distance_m for s in stops),
        "service_s": sum(s.departure - s.begin for s in stops if s.kind == "job"),
        "waiting_s": sum(s.begin - s.arrival for s in stops),
        "break_s": sum(s.departure - s.begin for s in stops if s.kind == "break"),
    }
    for name, value in totals.items():
        if getattr(route, name) != value:
            found.append(f"{where}: {name} is {getattr(route, name)}, the stops add up to {value}")
    return found


def _check_unassigned(problem: Problem, solution: Solution, planned: dict[str, str]) -> list[str]:
    found: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    listed: set[str] = set()
    for entry in solution.unassigned:
        job = jobs.get(entry.id)
        if job is None:
            found.append(f"unassigned {entry.id!r}: no such job")
            continue
        if entry.id in listed:
            found.append(f"unassigned {entry.id!r}: listed twice")
        listed.add(entry.id)
        if entry.id in planned:
            found.append(f"unassigned {entry.id!r}: but planned for {planned[entry.id]}")
        if job.windows == []:
            truth = "closed"
        elif any(doable_alone(problem, vehicle, job) for vehicle in problem.vehicles):
            truth = "no_time"
        else:
            truth = "out_of_range"
        if entry.reason != truth:
            found.append(f"unassigned {entry.id!r}: reason {entry.reason!r}, but it is {truth!r}")
        if not entry.detail.strip():
            found.append(f"unassigned {entry.id!r}: no detail")
    for job in problem.jobs:
        if job.id not in planned and job.id not in listed:
            found.append(f"job {job.id!r} is neither planned nor listed as unassigned")
    return found


def _check_summary(problem: Problem, solution: Solution, planned: dict[str, str]) -> list[str]:
    expected = {
        "planned": len(planned),
        "priority_planned": sum(job.priority for job in problem.jobs if job.id in planned),
        "priority_total": sum(job.priority for job in problem.jobs),
        "travel_s": sum(route.travel_s for route in solution.routes),
        "distance_m": sum(route.distance_m for route in solution.routes),
    }
    return [
        f"summary.{name} is {getattr(solution.summary, name)}, expected {value}"
        for name, value in expected.items()
        if getattr(solution.summary, name) != value
    ]
