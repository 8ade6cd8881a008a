"""The one timing rule of a day: given the order of a rep's visits and breaks, when each happens.

Both solvers only choose an order (backend/planning/vroom_solver.py, pyvrp_solver.py); this module times it, so
every answer is reported the same way whichever solver found it, and a solver's order that breaks a rule is
caught here rather than shown to a rep.

The rules (earliest start, VROOM's semantics, which PyVRP shares for visits):

- The day starts at `shift.start` at the vehicle's `start` and must be over by `shift.end`: back at `end`, or,
  when `end` is None, the last visit or break finished. Working time holds travel, waiting, visits and breaks.
- A visit's service must BEGIN inside one of the job's windows (both ends inclusive); it may run past the
  window's end (a store that closes at 12:00 still lets a rep who came in at 11:50 finish). The rep waits when
  early. Every visit must also END by `shift.end`.
- A break is taken where the rep is, with no travel of its own; it must begin inside one of its windows. A break
  between two places interrupts the leg: if the rep is early for the break, they drive on until the break's
  window opens (or until they reach the next place and wait there), take the break, then drive the rest of the
  leg. This is exactly VROOM's model (tw_route.cpp: "remaining_travel_time"), so every order VROOM returns is
  feasible here. The break's stop reports the part of the leg driven before it, the next stop the rest; the
  leg's distance is shared in the same proportion.
- Everything starts as early as possible. Starting later never helps a later step under these rules, so an
  order is feasible exactly when its earliest-start schedule is.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.planning.problem import Break, Job, Problem, Route, Stop, Vehicle, Window


class Infeasible(Exception):
    """An order that cannot be done within the rules; the message says why, for a person.

    `step` is the index in the steps of the stop that fails, or len(steps) when the day cannot end in time."""

    def __init__(self, reason: str, step: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step


def clock(seconds: int) -> str:
    """A time from the problem's origin as a person reads it: "08:05", or "day 2 08:05" after the first day."""
    day, rest = divmod(seconds, 86_400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"day {day + 1} {text}" if day else text


def merged_windows(windows: Sequence[Window]) -> list[Window]:
    """The same times as a sorted list of disjoint windows (overlapping or touching ones joined), which is what
    VROOM expects and what makes "the first window that has not closed yet" the right one to wait for."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda w: (w.start, w.end)):
        if merged and window.start <= merged[-1].end + 1:
            if window.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, window.end)
        else:
            merged.append(window)
    return merged


def _first_open(windows: Sequence[Window], time: int) -> Window | None:
    """The first of sorted, disjoint `windows` that has not closed at `time`."""
    for window in windows:
        if time <= window.end:
            return window
    return None


class Scheduler:
    """Times orders of steps against one problem; built once per problem because the solvers time many orders.

    The problem must have `durations` (solve.py validates shapes and indexes before building one)."""

    def __init__(self, problem: Problem) -> None:
        if problem.durations is None:
            raise ValueError("durations: required to time a route")
        self.durations = problem.durations
        self.distances = problem.distances
        self.jobs: dict[str, Job] = {job.id: job for job in problem.jobs}
        # None: any time; []: closed that day.
        self.windows: dict[str, list[Window] | None] = {
            job.id: None if job.windows is None else merged_windows(job.windows) for job in problem.jobs
        }
        self._break_windows: dict[tuple[str, str], list[Window]] = {
            (vehicle.id, b.id): merged_windows(b.windows) for vehicle in problem.vehicles for b in vehicle.breaks
        }

    def _distance(self, origin: int, target: int) -> int:
        return 0 if self.distances is None else self.distances[origin][target]

    def _resolve(self, vehicle: Vehicle, steps: Sequence[str]) -> list[Job | Break]:
        breaks = {b.id: b for b in vehicle.breaks}
        resolved: list[Job | Break] = []
        seen: set[str] = set()
        for step in steps:
            if step in seen:
                raise ValueError(f"step {step!r} appears twice in the route of {vehicle.id!r}")
            seen.add(step)
            found = breaks.get(step) or self.jobs.get(step)
            if found is None:
                raise ValueError(f"step {step!r} is neither a job nor a break of {vehicle.id!r}")
            resolved.append(found)
        return resolved

    def route(self, vehicle: Vehicle, steps: Sequence[str]) -> Route:
        """The timed route of `vehicle` doing `steps` (job and break ids) in this order; Infeasible if the order
        breaks a rule. Steps are timed as given: a break missing from `steps` is simply not taken."""
        resolved = self._resolve(vehicle, steps)
        shift = vehicle.shift
        time = shift.start
        place = vehicle.start
        stops = [Stop("start", vehicle.id, place, time, time, time, 0, 0)]
        # Travel already driven, while waiting for breaks, on the leg from `place` to the next place.
        driven_s = driven_m = 0
        for index, step in enumerate(resolved):
            if isinstance(step, Break):
                target = self._next_place(resolved, index, vehicle, place)
                leg_s, leg_m = self.durations[place][target], self._distance(place, target)
                window = _first_open(self._break_windows[(vehicle.id, step.id)], time)
                if window is None:
                    last = clock(max(w.end for w in step.windows))
                    raise Infeasible(f"break {step.id!r} would start at {clock(time)}, after {last}", index)
                begin = max(time, window.start)
                # Early for the break: drive on meanwhile, as far as the next place.
                travel = min(leg_s - driven_s, begin - time)
                driven_s += travel
                share_m = leg_m * driven_s // leg_s if leg_s else 0
                finish = begin + step.service_s
                stops.append(Stop("break", step.id, None, time + travel, begin, finish, travel, share_m - driven_m))
                time, driven_m = finish, share_m
                if time > shift.end:
                    why = f"break {step.id!r} would end at {clock(time)}, after the shift ({clock(shift.end)})"
                    raise Infeasible(why, index)
                continue
            travel = self.durations[place][step.location] - driven_s
            arrival = time + travel
            windows = self.windows[step.id]
            begin = arrival
            if windows is not None:
                window = _first_open(windows, arrival)
                if window is None:
                    closes = f"its last window closes at {clock(windows[-1].end)}" if windows else "it is closed"
                    raise Infeasible(f"{step.id!r}: the rep arrives at {clock(arrival)} but {closes}", index)
                begin = max(arrival, window.start)
            departure = begin + step.service_s
            if departure > shift.end:
                why = f"{step.id!r}: the visit would end at {clock(departure)}, after the shift ({clock(shift.end)})"
                raise Infeasible(why, index)
            distance = self._distance(place, step.location) - driven_m
            stops.append(Stop("job", step.id, step.location, arrival, begin, departure, travel, distance))
            place, time, driven_s, driven_m = step.location, departure, 0, 0
        end = place if vehicle.end is None else vehicle.end
        travel = self.durations[place][end] - driven_s
        arrival = time + travel
        if arrival > shift.end:
            why = f"the rep would be back at {clock(arrival)}, after the shift ({clock(shift.end)})"
            raise Infeasible(why, len(steps))
        distance = self._distance(place, end) - driven_m
        stops.append(Stop("end", vehicle.id, end, arrival, arrival, arrival, travel, distance))
        return _route(vehicle.id, stops)

    def fits(self, vehicle: Vehicle, steps: Sequence[str]) -> bool:
        """Whether `route(vehicle, steps)` would succeed."""
        try:
            self.route(vehicle, steps)
        except Infeasible:
            return False
        return True

    def _next_place(self, resolved: Sequence[Job | Break], index: int, vehicle: Vehicle, place: int) -> int:
        """Where the leg interrupted by the break at `index` goes: the next visit, else the end of the day."""
        for step in resolved[index + 1 :]:
            if isinstance(step, Job):
                return step.location
        return place if vehicle.end is None else vehicle.end


def _route(vehicle_id: str, stops: list[Stop]) -> Route:
    return Route(
        vehicle=vehicle_id,
        stops=stops,
        travel_s=sum(stop.travel_s for stop in stops),
        distance_m=sum(stop.distance_m for stop in stops),
        service_s=sum(stop.departure - stop.begin for stop in stops if stop.kind == "job"),
        waiting_s=sum(stop.begin - stop.arrival for stop in stops),
        break_s=sum(stop.departure - stop.begin for stop in stops if stop.kind == "break"),
    )


def schedule(problem: Problem, vehicle: Vehicle, steps: Sequence[str]) -> Route:
    """The timed route of `vehicle` doing `steps` (job and break ids) in order, by the rules of this module;
    raises Infeasible, with the reason, when the order breaks one. For many orders, build a Scheduler once."""
    return Scheduler(problem).route(vehicle, steps)
