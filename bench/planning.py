"""Route planning: our planner (`solve()`: VROOM by default, PyVRP on request) against known optima and OR-Tools.

Five sections, each a table, all in one run on one machine (bench/README.md, "Route planning"):

1. TSPLIB (eil51, berlin52, st70, kroA100): node 1 is the depot, every other node a job of equal priority. Tour
   length, gap to the proven optimum, time, for `solve()` with solver "auto" (the default), the other solver,
   and OR-Tools routing (GUIDED_LOCAL_SEARCH from PATH_CHEAPEST_ARC) with the same time limit; `--repeats` runs
   each, the median shown with the range (a search cut by its time limit varies with the load). Target: gap <=
   0.5% within 1.5 s.
2. Solomon VRPTW (C101, R101, C201, R201). Our problem has no capacity, so all three solvers plan the same
   capacity-free relaxation (windows, service times, 25 vehicles, travel minimised); OR-Tools also plans the real,
   capacitated instance (from PARALLEL_CHEAPEST_INSERTION too when PATH_CHEAPEST_ARC finds no first
   solution). Distances and times are scaled by 100 and rounded for the integer solvers; distances
   are reported in the instance's units, recomputed in double precision from each route's order.
3. Field days in the demo's territory: 30, 60 and 100 candidate stores with tight hours, 20-60 minute visits,
   priorities 1-5, one rep 08:30-17:30 with a 45-minute lunch, matrices from `estimate_matrices`: priority
   planned, stores planned, travel, time; VROOM, PyVRP, OR-Tools (optional nodes, penalty = priority x a unit
   above any travel; windows as cumul ranges with the gaps removed; the lunch as a break interval).
4. A realistic day: 40 of the demo's stores as generated (hours by channel): time of `solve()` with the default
   solver, median and p95; baseline: `estimate_matrices` for the same points, same run.
5. A four-week beat plan for the demo's 300 stores (weekly, fortnightly and monthly): time and the spread of
   the daily workload; baseline: the straight-line travel matrix `plan_beat` builds for them.

Every answer of ours goes through `check()`; OR-Tools' orders are timed by our schedule.py and checked with
`check_route()`, so every figure is computed the same way whichever solver found the order. No server and no
database. OR-Tools is a benchmark-only dependency (`pip install -e ".[bench]"`).

    .venv/bin/python -m bench.planning                     # everything (about 80 s on 2 cores)
    .venv/bin/python -m bench.planning --quick             # a smoke run (about 15 s)
    .venv/bin/python -m bench.planning --only tsplib,day --time-limit 1.5
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Literal

import msgspec
import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from backend.planning.beat import plan_beat
from backend.planning.beat_cluster import straight_travel_minutes
from backend.planning.check import check, check_route
from backend.planning.matrix import estimate_matrices
from backend.planning.problem import Job, Problem, Route, Solution, Vehicle, Window
from backend.planning.schedule import Infeasible, Scheduler, merged_windows
from backend.planning.solve import DEFAULT_SOLVER, solve
from bench import planning_data as data

SECTIONS = ("tsplib", "solomon", "field", "day", "beat")
SolverName = Literal["auto", "pyvrp", "vroom", "best"]
OTHER: SolverName = "pyvrp" if DEFAULT_SOLVER == "vroom" else "vroom"
SOLOMON_SCALE = 100
TARGET_GAP_PCT, TARGET_TIME_S, TARGET_DAY_MS = 0.5, 1.5, 300.0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=1.0, help="seconds each solver may search (default 1.0)")
    p.add_argument("--seed", type=int, default=2026, help="random seed for the synthetic days (default 2026)")
    p.add_argument("--quick", action="store_true", help="fewer instances and runs: a smoke test (under a minute)")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run, comma-separated: {SECTIONS}")
    p.add_argument("--days", type=int, default=0, help="field days per size (default 5, --quick 1)")
    p.add_argument("--runs", type=int, default=0, help="timed plans of the realistic day (default 20, --quick 5)")
    p.add_argument("--repeats", type=int, default=0, help="runs of each TSPLIB instance (default 3, --quick 1)")
    args = p.parse_args()
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        p.error(f"--only: unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    args.days = args.days or (1 if args.quick else 5)
    args.runs = args.runs or (5 if args.quick else 20)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


# --- printing ---------------------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table: text left-aligned, numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in cells[1:] if row[i]) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, widths, numeric, strict=True))

    print(line(cells[0]).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row).rstrip())


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("+", "").replace("%", "").isdigit()


def heading(title: str) -> None:
    print(f"\n## {title}\n")


def solver_label(name: str) -> str:
    return f"{DEFAULT_SOLVER} (default)" if name in ("auto", DEFAULT_SOLVER) else name


# --- one plan, whoever made it ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """A plan as figures: timed routes (by schedule.py), wall time, and every rule the plan breaks."""

    routes: list[Route]
    seconds: float
    priority: int  # the sum of the planned jobs' priorities
    problems: list[str] = field(default_factory=list)

    def planned(self) -> list[str]:
        return [stop.id for route in self.routes for stop in route.stops if stop.kind == "job"]

    def verdict(self) -> str:
        return "ok" if not self.problems else f"{len(self.problems)} PROBLEM(S)"


def ours(problem: Problem, solver: SolverName) -> Outcome:
    """`solve()` timed from the call to the answer, and `check()` on the answer."""
    problem = msgspec.structs.replace(problem, solver=solver)
    started = time.perf_counter()
    solution: Solution = solve(problem)
    seconds = time.perf_counter() - started
    return Outcome(solution.routes, seconds, solution.summary.priority_planned, check(problem, solution))


def timed_orders(problem: Problem, orders: dict[str, list[str]], seconds: float, hints: dict[str, int]) -> Outcome:
    """Another solver's orders (job ids per vehicle id, without breaks) timed by schedule.py and checked route by
    route. A vehicle's breaks go where the other solver put them (`hints`: before which visit) when our rules
    accept that, else where the day ends earliest."""
    scheduler = Scheduler(problem)
    routes, problems, seen = [], [], set()
    for vehicle in problem.vehicles:
        visits = orders.get(vehicle.id, [])
        if not visits:
            continue
        seen.update(visits)
        try:
            route = _route_with_breaks(scheduler, vehicle, visits, hints.get(vehicle.id))
        except Infeasible as infeasible:
            problems.append(f"{vehicle.id}: infeasible by our rules: {infeasible.reason}")
            continue
        routes.append(route)
        problems += check_route(problem, vehicle, route, vehicle.id)
    if sum(len(v) for v in orders.values()) != len(seen):
        problems.append("a job is planned twice")
    planned = {stop.id for route in routes for stop in route.stops if stop.kind == "job"}
    return Outcome(routes, seconds, sum(s.priority for s in scheduler.jobs.values() if s.id in planned), problems)


def _route_with_breaks(scheduler: Scheduler, vehicle: Vehicle, visits: list[str], hint: int | None) -> Route:
    steps = list(visits)
    for brk in vehicle.breaks:

        def at(position: int, brk_id: str = brk.id, steps: list[str] = steps) -> list[str]:
            return [*steps[:position], brk_id, *steps[position:]]

        if hint is not None and scheduler.fits(vehicle, at(hint)):
            steps = at(hint)
            continue
        ends = []
        for position in range(len(steps) + 1):
            try:
                ends.append((scheduler.route(vehicle, at(position)).stops[-1].arrival, position))
            except Infeasible:
                continue
        if not ends:
            raise Infeasible(f"break {brk.id!r} fits nowhere in the order", len(steps))
        steps = at(min(ends)[1])
    return scheduler.route(vehicle, steps)


# --- OR-Tools ---------------------------------------------------------------------------------------------------


@dataclass
class OrToolsModel:
    """A routing model: node 0 is the depot every vehicle starts and ends at, node k >= 1 the k-th job handed to
    `ortools_outcome`; all vehicles alike (the bench's problems are)."""

    cost: list[list[int]]  # node x node
    vehicles: int
    # With a time dimension: travel (node x node), service (per node), windows (per node; node 0: the shift).
    travel: list[list[int]] | None = None
    service: list[int] | None = None
    windows: list[list[Window]] | None = None
    penalties: list[int] | None = None  # per job node: the price of leaving it out; None: all required
    demands: list[int] | None = None
    capacity: int = 0
    lunch: tuple[int, int, int] | None = None  # (earliest start, latest start, duration)


@dataclass
class OrToolsAnswer:
    routes: list[list[int]]  # job nodes per vehicle, in order
    seconds: float
    break_before: list[int | None]  # per vehicle: the position of the break in its route (visits before it)


def ortools(model: OrToolsModel, time_limit_s: float, first: str = "PATH_CHEAPEST_ARC") -> OrToolsAnswer:
    """Solve with OR-Tools' routing library: a first solution (`first`, a FirstSolutionStrategy name), then
    GUIDED_LOCAL_SEARCH until the time limit. Matrices are registered as matrices (no Python callback in the
    search). No solution found: every route empty."""
    started = time.perf_counter()
    n = len(model.cost)
    manager = pywrapcp.RoutingIndexManager(n, model.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(model.cost))
    if model.travel is not None and model.service is not None and model.windows is not None:
        shift = model.windows[0][0]
        # Time of the leg i -> j: the visit at i, then the travel; the cumul of a node is when its visit begins.
        transit = np.asarray(model.travel, dtype=np.int64) + np.asarray(model.service, dtype=np.int64)[:, None]
        callback = routing.RegisterTransitMatrix(transit.tolist())
        routing.AddDimension(callback, shift.end, shift.end, False, "Time")
        time_dimension = routing.GetDimensionOrDie("Time")
        for node in range(1, n):
            cumul = time_dimension.CumulVar(manager.NodeToIndex(node))
            windows = model.windows[node]
            cumul.SetRange(windows[0].start, windows[-1].end)
            for before, after in itertools.pairwise(windows):
                cumul.RemoveInterval(before.end + 1, after.start - 1)
        for v in range(model.vehicles):
            time_dimension.CumulVar(routing.Start(v)).SetRange(shift.start, shift.end)
            time_dimension.CumulVar(routing.End(v)).SetRange(shift.start, shift.end)
        if model.lunch is not None:
            earliest, latest, duration = model.lunch
            visit = [model.service[manager.IndexToNode(i)] for i in range(routing.Size())]
            for v in range(model.vehicles):
                lunch = routing.solver().FixedDurationIntervalVar(earliest, latest, duration, False, f"lunch {v}")
                time_dimension.SetBreakIntervalsOfVehicle([lunch], v, visit)
    if model.demands is not None:
        demand = routing.RegisterUnaryTransitVector(model.demands)
        routing.AddDimensionWithVehicleCapacity(demand, 0, [model.capacity] * model.vehicles, True, "Load")
    if model.penalties is not None:
        for node in range(1, n):
            routing.AddDisjunction([manager.NodeToIndex(node)], model.penalties[node])
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, first)
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.FromMilliseconds(max(1, round(time_limit_s * 1000)))
    assignment = routing.SolveWithParameters(parameters)
    seconds = time.perf_counter() - started
    if assignment is None:
        return OrToolsAnswer([[] for _ in range(model.vehicles)], seconds, [None] * model.vehicles)
    routes: list[list[int]] = []
    breaks: list[int | None] = []
    for v in range(model.vehicles):
        index, nodes, begins = assignment.Value(routing.NextVar(routing.Start(v))), [], []
        while not routing.IsEnd(index):
            nodes.append(manager.IndexToNode(index))
            if model.travel is not None:
                begins.append(assignment.Value(routing.GetDimensionOrDie("Time").CumulVar(index)))
            index = assignment.Value(routing.NextVar(index))
        routes.append(nodes)
        breaks.append(None)
        if model.lunch is not None and nodes:
            intervals = assignment.IntervalVarContainer()
            for k in range(intervals.Size()):
                element = intervals.Element(k)
                if element.Var().Name() == f"lunch {v}":
                    breaks[-1] = sum(1 for begin in begins if begin < element.StartValue())
    return OrToolsAnswer(routes, seconds, breaks)


def ortools_outcome(problem: Problem, nodes: Sequence[Job], answer: OrToolsAnswer) -> Outcome:
    """OR-Tools' routes as our orders (node k is job `nodes[k - 1]`), timed and checked by our rules."""
    orders, hints = {}, {}
    for vehicle, route, hint in zip(problem.vehicles, answer.routes, answer.break_before, strict=True):
        orders[vehicle.id] = [nodes[node - 1].id for node in route]
        if hint is not None:
            hints[vehicle.id] = hint
    return timed_orders(problem, orders, answer.seconds, hints)


def ortools_nodes(problem: Problem) -> tuple[list[Job], list[int]]:
    """The jobs OR-Tools can visit (open that day) and the problem's place of each node (node 0: the depot)."""
    jobs = [job for job in problem.jobs if job.windows != []]
    return jobs, [problem.vehicles[0].start, *(job.location for job in jobs)]


def submatrix(matrix: list[list[int]], places: Sequence[int]) -> list[list[int]]:
    return np.asarray(matrix, dtype=np.int64)[np.ix_(places, places)].tolist()


def timed_model(problem: Problem, *, optional: bool, lunch: bool) -> tuple[list[Job], OrToolsModel]:
    """The problem as an OR-Tools model with a time dimension: cost and travel from `durations`, windows merged
    (several per node: the range from the first to the last, the gaps removed), the shift as the depot's window.
    Optional jobs cost priority x (1 + the shifts' length) when left out: more than any plan's travel, so
    OR-Tools' objective is ours, priority first and travel second."""
    assert problem.durations is not None
    jobs, places = ortools_nodes(problem)
    shift = problem.vehicles[0].shift
    travel = submatrix(problem.durations, places)
    windows = [[shift], *(merged_windows(j.windows) if j.windows is not None else [shift] for j in jobs)]
    unit = 1 + sum(v.shift.end - v.shift.start for v in problem.vehicles)
    breaks = problem.vehicles[0].breaks
    model = OrToolsModel(
        cost=travel,
        vehicles=len(problem.vehicles),
        travel=travel,
        service=[0, *(job.service_s for job in jobs)],
        windows=windows,
        penalties=[0, *(job.priority * unit for job in jobs)] if optional else None,
        lunch=(breaks[0].windows[0].start, breaks[0].windows[-1].end, breaks[0].service_s)
        if lunch and breaks
        else None,
    )
    return jobs, model


# --- 1. TSPLIB --------------------------------------------------------------------------------------------------

TSP_SHIFT = Window(0, 1_000_000)  # far longer than any tour of these instances


def tsp_problem(tsp: data.Tsp, time_limit_s: float) -> Problem:
    """Node 1 (place 0) is the depot where the one vehicle starts and ends; every other node is a job."""
    matrix = tsp.matrix()
    jobs = [Job(id=f"n{k + 1}", location=k) for k in range(1, len(matrix))]
    vehicle = Vehicle(id="tour", start=0, end=0, shift=TSP_SHIFT)
    return Problem(jobs=jobs, vehicles=[vehicle], durations=matrix, distances=matrix, time_limit_s=time_limit_s)


def tsp_ortools(problem: Problem, model: OrToolsModel, time_limit_s: float) -> Outcome:
    return ortools_outcome(problem, problem.jobs, ortools(model, time_limit_s))


def section_tsplib(args: argparse.Namespace) -> None:
    heading(
        f"1. TSPLIB: one tour from node 1 through every node (time limit {args.time_limit:g} s, "
        f"{args.repeats} run(s) each)"
    )
    names = ("eil51", "berlin52") if args.quick else tuple(data.TSP_OPTIMUM)
    rows = []
    for name in names:
        tsp = data.tsplib(name)
        problem = tsp_problem(tsp, args.time_limit)
        model = OrToolsModel(cost=tsp.matrix(), vehicles=1)
        solvers: list[tuple[str, Callable[[], Outcome]]] = [
            (solver_label("auto"), functools.partial(ours, problem, "auto")),
            (OTHER, functools.partial(ours, problem, OTHER)),
            ("best (portfolio)", functools.partial(ours, problem, "best")),
            ("OR-Tools GLS", functools.partial(tsp_ortools, problem, model, args.time_limit)),
        ]
        for label, run in solvers:
            gaps, seconds, met, problems = [], [], 0, []
            for _ in range(args.repeats):
                outcome = run()
                missing = len(problem.jobs) - len(outcome.planned())
                if missing:
                    outcome.problems.append(f"{missing} node(s) not visited")
                length = sum(route.travel_s for route in outcome.routes)
                gaps.append(100 * (length - tsp.optimum) / tsp.optimum)
                seconds.append(outcome.seconds)
                met += gaps[-1] <= TARGET_GAP_PCT and outcome.seconds <= TARGET_TIME_S and not outcome.problems
                problems += outcome.problems
            median = statistics.median(gaps)
            rows.append(
                [
                    name,
                    len(problem.jobs) + 1,
                    tsp.optimum,
                    label,
                    f"{round(tsp.optimum * (1 + median / 100)):,}",
                    f"{median:+.2f}%",
                    f"{min(gaps):+.2f}..{max(gaps):+.2f}%" if len(gaps) > 1 else "",
                    f"{max(seconds):.2f}",
                    f"{met}/{len(gaps)}",
                    "ok" if not problems else f"{len(problems)} PROBLEM(S)",
                ]
            )
            for problem_text in problems[:3]:
                print(f"  {name} {label}: {problem_text}")
    table(
        ["instance", "nodes", "optimum", "solver", "length", "gap", "range", "max s", "<=0.5% in 1.5 s", "check"],
        rows,
    )
    print(
        "Length and gap: the median run; range: best..worst gap; max s: the slowest run. Lengths are the tours as\n"
        "our schedule.py times them (EUC_2D: Euclidean distance rounded to the nearest integer)."
    )


# --- 2. Solomon -------------------------------------------------------------------------------------------------


def solomon_problem(instance: data.Solomon, time_limit_s: float) -> Problem:
    """The capacity-free relaxation: customers as jobs of equal priority with READY..DUE as the window in which
    service begins, every vehicle from and back to the depot within the depot's window; times and distances x
    SOLOMON_SCALE, rounded."""
    s = SOLOMON_SCALE
    matrix = instance.scaled_matrix(s)
    depot = instance.customers[0]
    jobs = [
        Job(id=f"c{k}", location=k, service_s=c.service * s, windows=[Window(c.ready * s, c.due * s)])
        for k, c in enumerate(instance.customers)
        if k
    ]
    shift = Window(depot.ready * s, depot.due * s)
    vehicles = [Vehicle(id=f"v{v + 1:02d}", start=0, end=0, shift=shift) for v in range(instance.vehicles)]
    return Problem(jobs=jobs, vehicles=vehicles, durations=matrix, distances=matrix, time_limit_s=time_limit_s)


def solomon_figures(instance: data.Solomon, outcome: Outcome) -> tuple[float, int, int]:
    """(distance in the instance's units, recomputed in double precision; vehicles used; routes over capacity)."""
    distance, over = 0.0, 0
    for route in outcome.routes:
        places = [stop.location for stop in route.stops if stop.location is not None]
        distance += sum(instance.distance(a, b) for a, b in itertools.pairwise(places))
        load = sum(instance.customers[p].demand for p in places)
        over += load > instance.capacity
    return distance, len(outcome.routes), over


def ortools_runs(
    problem: Problem, jobs: list[Job], model: OrToolsModel, run: str, time_limit_s: float
) -> list[tuple[str, str, Outcome]]:
    """OR-Tools from PATH_CHEAPEST_ARC; when that finds no first solution (it extends routes greedily and can
    strand customers with tight windows), again from PARALLEL_CHEAPEST_INSERTION, so the row has a figure."""
    answer = ortools(model, time_limit_s)
    runs = [(run, "OR-Tools GLS", ortools_outcome(problem, jobs, answer))]
    if not any(answer.routes):
        answer = ortools(model, time_limit_s, "PARALLEL_CHEAPEST_INSERTION")
        runs.append((run, "OR-Tools GLS from PCI", ortools_outcome(problem, jobs, answer)))
    return runs


def section_solomon(args: argparse.Namespace) -> None:
    heading(f"2. Solomon VRPTW, 100 customers (time limit {args.time_limit:g} s)")
    print(
        "Our Problem has no capacity. So 'relaxed' rows are the capacity-free relaxation, the same for all three\n"
        "solvers: time windows (service begins in READY..DUE), service times, up to 25 vehicles from and back to\n"
        "the depot in its window, all customers required, travel distance minimised (VROOM and our objective rank\n"
        "priority first, then travel: with every job of equal priority that minimises travel, NOT vehicles). A\n"
        "relaxation can beat the best-known distance and may overload vehicles ('over cap.': routes whose demand\n"
        "exceeds the capacity). Only the 'capacity' row, OR-Tools with the capacity dimension, is the real instance.\n"
        f"Integer solvers plan with times and distances x{SOLOMON_SCALE}, rounded; distances below are recomputed\n"
        "unrounded from each route's order. 'gap' is to the best-known distance-only value (capacity respected).\n"
    )
    names = ("C101",) if args.quick else tuple(data.SOLOMON_BEST)
    rows = []
    for name in names:
        instance = data.solomon(name)
        problem = solomon_problem(instance, args.time_limit)
        best = instance.best
        rows.append(
            [name, "best known", f"{best.distance:.2f}", "", best.vehicles, "", "", "", "fewest vehicles first"]
        )
        rows.append([name, "best known", f"{best.distance_only:.2f}", "", best.distance_only_vehicles] + [""] * 3)
        rows[-1].append("distance only")
        runs: list[tuple[str, str, Outcome]] = [
            ("relaxed", solver_label("auto"), ours(problem, "auto")),
            ("relaxed", OTHER, ours(problem, OTHER)),
            ("relaxed", "best (portfolio)", ours(problem, "best")),
        ]
        jobs, model = timed_model(problem, optional=False, lunch=False)
        runs += ortools_runs(problem, jobs, model, "relaxed", args.time_limit)
        model.demands = [c.demand for c in instance.customers]
        model.capacity = instance.capacity
        runs += ortools_runs(problem, jobs, model, "capacity", args.time_limit)
        for run, label, outcome in runs:
            distance, vehicles, over = solomon_figures(instance, outcome)
            planned = len(outcome.planned())
            if 0 < planned < len(problem.jobs):
                outcome.problems.append(f"{len(problem.jobs) - planned} customer(s) not served")
            gap = round(100 * (distance - best.distance_only) / best.distance_only, 2) + 0.0  # no "-0.00%"
            rows.append(
                [
                    name,
                    f"{label} {run}",
                    f"{distance:.2f}" if planned else "no solution",
                    f"{gap:+.2f}%" if planned else "",
                    vehicles,
                    planned,
                    over,
                    f"{outcome.seconds:.2f}",
                    outcome.verdict() if planned else "no first solution",
                ]
            )
            for problem_text in outcome.problems[:3]:
                print(f"  {name} {label} {run}: {problem_text}")
    table(["instance", "solver", "distance", "gap", "vehicles", "served", "over cap.", "time s", "check"], rows)


# --- 3. field days ----------------------------------------------------------------------------------------------


def field_problem(args: argparse.Namespace, size: int, day: int) -> Problem:
    rng = random.Random(f"{args.seed}-field-{size}-{day}")
    stores = data.tight_stores(rng, args.seed, size)
    durations, distances = estimate_matrices(data.day_points(args.seed, stores))
    return data.day_problem(stores, durations, distances, time_limit_s=args.time_limit)


def section_field(args: argparse.Namespace) -> None:
    heading(
        f"3. Field days: one rep, 08:30-17:30, 45-minute lunch; {args.days} day(s) per size, totals "
        f"(time limit {args.time_limit:g} s)"
    )
    hours = "; ".join(f"{share:.0%} {label}" for share, label, _ in data.TIGHT_HOURS)
    print(
        f"Candidate stores: the demo's places in the {data.TERRITORY} territory, visits 20-60 min, priorities 1-5.\n"
        f"Hours: {hours}.\n"
        "Matrices from estimate_matrices (detour 1.3, 30 km/h, 2 min parking).\n"
        "OR-Tools: optional nodes with a drop penalty of priority x (1 + shift length), windows as cumul ranges with\n"
        "the lunch gaps removed, the lunch as a break interval; its order is then timed by our schedule.py (the\n"
        "lunch where OR-Tools took it when our rules accept that, else where the day ends earliest) and checked.\n"
    )
    sizes = (30, 60) if args.quick else (30, 60, 100)
    rows = []
    for size in sizes:
        totals: dict[str, list[Outcome]] = {}
        priority_total = 0
        for day in range(args.days):
            problem = field_problem(args, size, day)
            priority_total += sum(job.priority for job in problem.jobs)
            solvers: tuple[SolverName, ...] = ("vroom", "pyvrp", "best")
            for solver in solvers:
                totals.setdefault(solver_label(solver), []).append(ours(problem, solver))
            jobs, model = timed_model(problem, optional=True, lunch=True)
            outcome = ortools_outcome(problem, jobs, ortools(model, args.time_limit))
            totals.setdefault("OR-Tools GLS", []).append(outcome)
            for label, outcomes in totals.items():
                for problem_text in outcomes[-1].problems[:3]:
                    print(f"  {size} stores, day {day + 1}, {label}: {problem_text}")
        best = [max(outcomes[day].priority for outcomes in totals.values()) for day in range(args.days)]
        for label, outcomes in totals.items():
            rows.append(
                [
                    size,
                    label,
                    f"{sum(o.priority for o in outcomes)} / {priority_total}",
                    f"{sum(o.priority == b for o, b in zip(outcomes, best, strict=True))}/{args.days}",
                    sum(len(o.planned()) for o in outcomes),
                    f"{sum(r.travel_s for o in outcomes for r in o.routes) / 60:,.0f}",
                    f"{statistics.mean(o.seconds for o in outcomes):.2f}",
                    f"{max(o.seconds for o in outcomes):.2f}",
                    "ok" if not any(o.problems for o in outcomes) else "PROBLEMS",
                ]
            )
    table(
        ["stores", "solver", "priority planned", "days best", "planned", "travel min", "mean s", "max s", "check"],
        rows,
    )
    print("Totals over the days; days best: days on which the solver planned the most priority (ties count).")


# --- 4. a realistic day -----------------------------------------------------------------------------------------


def quantiles(values: Sequence[float]) -> tuple[float, float]:
    """(median, nearest-rank p95)."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def repeat(runs: int, work: Callable[[], Any]) -> tuple[list[float], Any]:
    """Wall time of each of `runs` calls, and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def section_day(args: argparse.Namespace) -> None:
    heading(f"4. A realistic day: 40 due demo stores, one rep, {solver_label('auto')}, {args.runs} runs")
    rng = random.Random(f"{args.seed}-day")
    stores = data.due_stores(rng, args.seed, 40)
    points = data.day_points(args.seed, stores)
    matrix_s, (durations, distances) = repeat(args.runs, lambda: estimate_matrices(points))
    problem = data.day_problem(stores, durations, distances, time_limit_s=args.time_limit)
    problems: list[str] = []

    def plan() -> Solution:
        solution = solve(problem)
        problems.extend(check(problem, solution))
        return solution

    plan()  # warm-up: imports, VROOM's first allocation
    problems.clear()
    plan_s, solution = repeat(args.runs, plan)
    plan_p50, plan_p95 = quantiles(plan_s)
    matrix_p50, matrix_p95 = quantiles(matrix_s)
    windows = sum(1 for job in problem.jobs if job.windows is not None and len(job.windows) > 1)
    print(
        f"{len(problem.jobs)} stores as the demo generates them (hours by channel; {windows} closed at lunch), "
        f"visits {min(s.visit_minutes for s in stores)}-{max(s.visit_minutes for s in stores)} min, priority "
        f"{sum(job.priority for job in problem.jobs)} in all; planned {solution.summary.planned} stores, priority "
        f"{solution.summary.priority_planned}, travel {solution.summary.travel_s / 60:.0f} min; check: "
        f"{'ok' if not problems else problems[:3]}\n"
    )
    table(
        ["", "p50 ms", "p95 ms", "target"],
        [
            [
                f"solve() (time limit {args.time_limit:g} s)",
                f"{plan_p50 * 1000:,.1f}",
                f"{plan_p95 * 1000:,.1f}",
                f"p95 < {TARGET_DAY_MS:.0f} ms: {'met' if plan_p95 * 1000 < TARGET_DAY_MS else 'MISSED'}",
            ],
            ["estimate_matrices, 41 points (baseline)", f"{matrix_p50 * 1000:,.2f}", f"{matrix_p95 * 1000:,.2f}", ""],
        ],
    )
    print(f"ratio plan / matrix (p50): {plan_p50 / matrix_p50:,.0f}x")


# --- 5. a beat --------------------------------------------------------------------------------------------------


def section_beat(args: argparse.Namespace) -> None:
    runs = 1 if args.quick else 5
    heading(f"5. A four-week beat for the demo's 300 stores (plan_beat, 20 working days, best of {runs})")
    stores = data.beat_stores(random.Random(f"{args.seed}-beat"), args.seed)
    days = data.beat_days()
    beat_s, plan = repeat(runs, lambda: plan_beat(stores, days))
    matrix_s, _ = repeat(runs, lambda: straight_travel_minutes([s.lat for s in stores], [s.lng for s in stores]))
    mix = ", ".join(
        f"{sum(1 for s in stores if s.frequency == frequency)} {_frequency(frequency)}"
        for _, frequency, _ in data.BEAT_MIX
    )
    minutes = [day.minutes for day in plan.days]
    visits = [len(day.store_ids) for day in plan.days]
    reasons: dict[str, int] = {}
    for missed in plan.unplannable:
        reasons[missed.reason] = reasons.get(missed.reason, 0) + 1
    print(f"Stores: {mix}; {days[0]} to {days[-1]}, Monday to Friday; 420 minutes a day (the default).\n")
    table(
        ["figure", "value"],
        [
            ["visits planned", plan.summary.visits],
            ["unplannable", f"{plan.summary.unplannable} {reasons or ''}".strip()],
            ["moved to another day of the week", len(plan.moved)],
            ["minutes per day min / max / mean", f"{min(minutes)} / {max(minutes)} / {statistics.mean(minutes):.1f}"],
            ["minutes per day standard deviation", f"{statistics.pstdev(minutes):.1f}"],
            ["days over 420 minutes", len(plan.summary.overloaded)],
            ["visits per day min / max", f"{min(visits)} / {max(visits)}"],
            ["travel estimate per day mean (min)", f"{statistics.mean(d.travel_minutes for d in plan.days):.0f}"],
            ["plan_beat time (best)", f"{min(beat_s) * 1000:,.0f} ms"],
            ["straight-line matrix, 300 stores (baseline)", f"{min(matrix_s) * 1000:,.2f} ms"],
            ["ratio", f"{min(beat_s) / min(matrix_s):,.0f}x"],
        ],
    )


def _frequency(frequency: Any) -> str:
    if hasattr(frequency, "times"):
        return f"monthly {frequency.times}x"
    every = "weekly" if frequency.every_weeks == 1 else f"every {frequency.every_weeks} weeks"
    return f"{every} ({','.join(frequency.weekdays)})"


# --- main -------------------------------------------------------------------------------------------------------


def main() -> None:
    args = parse()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Python {platform.python_version()}, pyvroom {version('pyvroom')}, PyVRP {version('pyvrp')}, OR-Tools "
        f"{version('ortools')}; {os.cpu_count()} cores, load average {load} before the run; default solver "
        f"{DEFAULT_SOLVER}; seed {args.seed}{'; --quick' if args.quick else ''}"
    )
    started = time.perf_counter()
    sections = {
        "tsplib": section_tsplib,
        "solomon": section_solomon,
        "field": section_field,
        "day": section_day,
        "beat": section_beat,
    }
    for name in args.only:
        sections[name](args)
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
