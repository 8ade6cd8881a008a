"""Both solvers on small hand-made days whose best plans are known, the checker that judges them, validation,
and the `fieldbook route solve` entry point."""

from __future__ import annotations

import io
import json
import math
import random
import re

import msgspec
import pytest

from backend.planning import pyvrp_solver, vroom_solver
from backend.planning.check import check
from backend.planning.cli_solve import run
from backend.planning.problem import Break, Job, Problem, Solution, Stop, Unassigned, Vehicle, Window
from backend.planning.schedule import Scheduler
from backend.planning.solve import SOLVERS as SOLVERS_BY_NAME
from backend.planning.solve import solve, validate

H = 3600
SOLVERS = ["vroom", "pyvrp"]


def uniform(places: int, travel_s: int) -> list[list[int]]:
    """Every place `travel_s` from every other."""
    return [[0 if i == j else travel_s for j in range(places)] for i in range(places)]


def solved(problem: Problem) -> Solution:
    solution = solve(problem)
    assert check(problem, solution) == []
    return solution


def stops(solution: Solution) -> dict[str, Stop]:
    return {stop.id: stop for route in solution.routes for stop in route.stops if stop.kind == "job"}


def reasons(solution: Solution) -> dict[str, str]:
    return {u.id: u.reason for u in solution.unassigned}


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_store_closed_at_lunch_is_visited_after_lunch(solver):
    # M only takes visits starting 11:30-11:45; L is closed 12:00-14:00. Doing L first would miss M, so the only
    # plan with both is M, then L after its lunch closure.
    problem = Problem(
        jobs=[
            Job(id="M", location=1, service_s=1800, windows=[Window(41_400, 42_300)]),
            Job(id="L", location=2, service_s=1800, windows=[Window(8 * H, 12 * H), Window(14 * H, 18 * H)]),
        ],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(11 * H, 18 * H))],
        durations=uniform(3, 600),
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert solution.summary.planned == 2
    assert stops(solution)["L"].begin == 14 * H
    assert [s.id for s in solution.routes[0].stops] == ["rep", "M", "L", "rep"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_store_with_two_windows_is_served_in_the_one_that_lets_the_day_hold_most(solver):
    # X could come first (08:10) or after lunch; only after lunch leaves the morning to Y and Z.
    problem = Problem(
        jobs=[
            Job(
                id="X",
                location=1,
                service_s=H,
                windows=[Window(8 * H, 8 * H + 1800), Window(14 * H, 15 * H)],
                priority=6,
            ),
            Job(id="Y", location=2, service_s=3 * H, windows=[Window(8 * H, 8 * H + 1800)], priority=5),
            Job(id="Z", location=3, service_s=2 * H, windows=[Window(11 * H, 12 * H)], priority=5),
        ],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))],
        durations=uniform(4, 600),
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert [s.id for s in solution.routes[0].stops] == ["rep", "Y", "Z", "X", "rep"]
    assert stops(solution)["X"].begin == 14 * H


@pytest.mark.parametrize("solver", SOLVERS)
def test_closed_and_unreachable_stores_are_left_out_with_the_true_reason(solver):
    durations = uniform(4, 600)
    for i in range(3):  # place 3 is five hours from everything
        durations[i][3] = durations[3][i] = 5 * H
    problem = Problem(
        jobs=[
            Job(id="open", location=1, service_s=1800),
            Job(id="closed", location=1, windows=[]),
            Job(id="far", location=3, service_s=600),
            Job(id="too-early", location=2, windows=[Window(8 * H, 8 * H + 300)]),  # reachable at 08:10
        ],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))],
        durations=durations,
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert set(stops(solution)) == {"open"}
    assert reasons(solution) == {"closed": "closed", "far": "out_of_range", "too-early": "out_of_range"}
    detail = next(u.detail for u in solution.unassigned if u.id == "too-early")
    assert "08:10" in detail


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_too_full_day_keeps_the_higher_priorities(solver):
    # Six two-hour visits, ten minutes apart, in an eight-hour day: three fit (6 h 40), four do not (8 h 50).
    priorities = [1, 10, 1, 10, 1, 10]
    problem = Problem(
        jobs=[Job(id=f"S{k}", location=k + 1, service_s=2 * H, priority=p) for k, p in enumerate(priorities)],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))],
        durations=uniform(7, 600),
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert set(stops(solution)) == {"S1", "S3", "S5"}
    assert reasons(solution) == {"S0": "no_time", "S2": "no_time", "S4": "no_time"}
    assert (solution.summary.priority_planned, solution.summary.priority_total) == (30, 33)


# VROOM's heuristics insert by priority and never trade one planned job for two of lower priority each, so it
# keeps A here. Strict: if a VROOM release learns the trade, this test says so.
VROOM_KEEPS_THE_TOP_PRIORITY = pytest.mark.xfail(strict=True, reason="VROOM does not trade one job for two")


@pytest.mark.parametrize("solver", [pytest.param("vroom", marks=VROOM_KEEPS_THE_TOP_PRIORITY), "pyvrp", "best"])
def test_two_visits_worth_more_together_beat_the_single_most_important_one(solver):
    # A (priority 10) takes 4 h 45; B and C (6 each) three hours each. A with either of them overruns the
    # eight-hour day, so the best day is B and C: the objective is the sum of priorities, not the top priority.
    problem = Problem(
        jobs=[
            Job(id="A", location=1, service_s=4 * H + 2700, priority=10),
            Job(id="B", location=2, service_s=3 * H, priority=6),
            Job(id="C", location=3, service_s=3 * H, priority=6),
        ],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))],
        durations=uniform(4, 600),
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert set(stops(solution)) == {"B", "C"}
    assert reasons(solution) == {"A": "no_time"}
    if solver == "best":  # the portfolio kept PyVRP's plan, and says so
        assert solution.solver == "pyvrp"


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_open_day_can_end_far_from_home(solver):
    # B and C are four hours out and ten minutes apart: both fit only because the day need not come back.
    # A, near home, is worth more than either but less than both.
    durations = [[0, 600, 4 * H, 4 * H], [600, 0, 4 * H, 4 * H], [4 * H, 4 * H, 0, 600], [4 * H, 4 * H, 600, 0]]
    problem = Problem(
        jobs=[
            Job(id="A", location=1, service_s=4 * H, priority=10),
            Job(id="B", location=2, service_s=6600, priority=6),
            Job(id="C", location=3, service_s=6600, priority=6),
        ],
        vehicles=[Vehicle(id="rep", start=0, end=None, shift=Window(8 * H, 16 * H))],
        durations=durations,
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert set(stops(solution)) == {"B", "C"}
    assert solution.routes[0].stops[-1].arrival == 16 * H - 600


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_open_day_needs_no_way_home(solver):
    durations = uniform(2, int(4.5 * H))  # the store is 4 h 30 away; an hour there; an 8-hour day
    job = Job(id="far", location=1, service_s=H)
    open_day = Problem(
        jobs=[job],
        vehicles=[Vehicle(id="rep", start=0, end=None, shift=Window(8 * H, 16 * H))],
        durations=durations,
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(open_day)
    end = solution.routes[0].stops[-1]
    assert (end.kind, end.location, end.travel_s, end.arrival) == ("end", 1, 0, 8 * H + int(5.5 * H))
    back_home = msgspec.structs.replace(
        open_day, vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))]
    )
    assert reasons(solved(back_home)) == {"far": "out_of_range"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_lunch_break_is_taken_and_costs_the_least_valuable_visit(solver):
    # Four visits of 1 h 45, five minutes apart, fill 7 h 25 of an 8-hour day; a 45-minute lunch leaves room
    # for three, and the priority-1 visit is the one to go.
    lunch = Break(id="lunch", windows=[Window(12 * H, 13 * H)], service_s=45 * 60)
    problem = Problem(
        jobs=[Job(id=f"S{k}", location=k + 1, service_s=6300, priority=p) for k, p in enumerate([5, 1, 5, 5])],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H), breaks=[lunch])],
        durations=uniform(5, 300),
        time_limit_s=0.2,
        solver=solver,
    )
    solution = solved(problem)
    assert set(stops(solution)) == {"S0", "S2", "S3"}
    assert reasons(solution) == {"S1": "no_time"}
    taken = [s for s in solution.routes[0].stops if s.kind == "break"]
    assert len(taken) == 1 and 12 * H <= taken[0].begin <= 13 * H


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_reps_each_work_their_own_area_and_take_their_own_lunch(solver):
    # Places 0-4 and 5-9 are two towns two hours apart; inside a town everything is ten minutes away.
    durations = [[0 if i == j else 600 if (i < 5) == (j < 5) else 2 * H for j in range(10)] for i in range(10)]
    lunch = [Break(id="lunch", windows=[Window(12 * H, 14 * H)], service_s=1800)]
    problem = Problem(
        jobs=[Job(id=f"S{p}", location=p, service_s=H) for p in (1, 2, 3, 4, 6, 7, 8, 9)],
        vehicles=[
            Vehicle(id="north", start=0, end=0, shift=Window(8 * H, 17 * H), breaks=lunch),
            Vehicle(id="south", start=5, end=5, shift=Window(8 * H, 17 * H), breaks=lunch),
        ],
        durations=durations,
        time_limit_s=0.3,
        solver=solver,
    )
    solution = solved(problem)
    assert solution.summary.planned == 8
    by_rep = {r.vehicle: {s.id for s in r.stops if s.kind == "job"} for r in solution.routes}
    assert by_rep == {"north": {"S1", "S2", "S3", "S4"}, "south": {"S6", "S7", "S8", "S9"}}
    assert solution.summary.travel_s == 2 * 5 * 600
    for route in solution.routes:
        assert [s.id for s in route.stops if s.kind == "break"] == ["lunch"]


def field_day(seed: int, stores: int = 25, reps: int = 1) -> Problem:
    """A random day around a town: a third of the stores open mornings, a third afternoons, some closed at
    lunch; 15-45 minute visits; an 8:00-18:00 shift with a 45-minute lunch."""
    rng = random.Random(seed)
    points = [(0.0, 0.0)] + [(rng.uniform(-8000, 8000), rng.uniform(-8000, 8000)) for _ in range(stores)]
    # 30 km/h with 30 % detour, plus two minutes to park.
    durations = [[0 if a == b else 120 + round(math.dist(a, b) * 1.3 / 8.33) for b in points] for a in points]
    jobs = []
    for k in range(stores):
        windows = [
            [Window(8 * H, 12 * H)],
            [Window(14 * H, 18 * H)],
            rng.choice([None, [Window(8 * H, 12 * H), Window(14 * H, 18 * H)]]),
        ][k % 3]
        jobs.append(Job(id=f"S{k}", location=k + 1, service_s=rng.randint(15, 45) * 60, windows=windows))
    lunch = [Break(id="lunch", windows=[Window(11 * H + 1800, 14 * H)], service_s=45 * 60)]
    vehicles = [Vehicle(id=f"rep{v}", start=0, end=0, shift=Window(8 * H, 18 * H), breaks=lunch) for v in range(reps)]
    return Problem(jobs=jobs, vehicles=vehicles, durations=durations, time_limit_s=0.3)


@pytest.mark.parametrize("reps", [1, 2])
@pytest.mark.parametrize("plan_routes", [vroom_solver.plan_routes, pyvrp_solver.plan_routes])
def test_each_solvers_order_is_feasible_by_our_timing_rule_as_it_stands(plan_routes, reps):
    """No repair in solve.py needed: schedule.py accepts the solvers' orders, breaks included (for VROOM this
    shows its timing rules are ours)."""
    for seed in range(2):
        problem = field_day(seed, reps=reps)
        scheduler = Scheduler(problem)
        routes = plan_routes(problem)
        assert routes
        for vehicle in problem.vehicles:
            if vehicle.id in routes:
                steps = routes[vehicle.id]
                scheduler.route(vehicle, steps)
                assert [s for s in steps if s not in scheduler.jobs] == ["lunch"]


def test_both_solvers_plan_a_field_day_about_equally_well():
    problem = field_day(7, stores=30)
    vroom = solved(msgspec.structs.replace(problem, solver="vroom"))
    pyvrp = solved(msgspec.structs.replace(problem, solver="pyvrp"))
    assert vroom.solver == "vroom" and pyvrp.solver == "pyvrp"
    # Both are heuristics; neither should be far behind the other on a small day.
    assert abs(vroom.summary.priority_planned - pyvrp.summary.priority_planned) <= 0.1 * vroom.summary.priority_total
    assert solve(problem).solver == "vroom"  # "auto"


def test_nothing_to_plan_is_an_empty_answer():
    for solver in SOLVERS:
        problem = Problem(
            jobs=[Job(id="closed", location=1, windows=[])],
            vehicles=[Vehicle(id="rep", start=0, shift=Window(8 * H, 9 * H))],
            durations=uniform(2, 60),
            solver=solver,
        )
        solution = solved(problem)
        assert solution.routes == [] and reasons(solution) == {"closed": "closed"}


def test_an_order_our_rules_reject_loses_the_failing_visit_not_the_day(monkeypatch, caplog):
    # A solver that puts B (open 08:00-08:15) after A cannot have it: solve.py drops B, keeps A, and logs it.
    problem = Problem(
        jobs=[Job(id="A", location=1, service_s=H), Job(id="B", location=2, windows=[Window(8 * H, 8 * H + 900)])],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 16 * H))],
        durations=uniform(3, 600),
    )
    monkeypatch.setitem(SOLVERS_BY_NAME, "vroom", lambda _: {"rep": ["A", "B"]})
    solution = solved(problem)
    assert set(stops(solution)) == {"A"}
    assert reasons(solution) == {"B": "no_time"}
    assert "infeasible day for rep" in caplog.text


# The checker must be able to fail: each broken rule below is caught.


def small_valid() -> tuple[Problem, Solution]:
    problem = Problem(
        jobs=[
            Job(id="A", location=1, service_s=600, windows=[Window(9 * H, 10 * H)]),
            Job(id="B", location=2, service_s=600),
            Job(id="C", location=2, windows=[]),
        ],
        vehicles=[Vehicle(id="rep", start=0, end=0, shift=Window(8 * H, 12 * H))],
        durations=uniform(3, 600),
        distances=uniform(3, 5000),
        time_limit_s=0.1,
    )
    return problem, solved(problem)


def with_stop(solution: Solution, job_id: str, **changes: int) -> Solution:
    route = solution.routes[0]
    changed = [msgspec.structs.replace(s, **changes) if s.id == job_id else s for s in route.stops]
    return msgspec.structs.replace(solution, routes=[msgspec.structs.replace(route, stops=changed)])


def test_the_checker_catches_broken_rules():
    problem, solution = small_valid()
    a = next(s for s in solution.routes[0].stops if s.id == "A")
    assert any("outside the job's windows" in p for p in check(problem, with_stop(solution, "A", begin=a.arrival)))
    assert any("travel" in p for p in check(problem, with_stop(solution, "A", travel_s=a.travel_s - 1)))
    assert any("distance" in p for p in check(problem, with_stop(solution, "A", distance_m=1)))
    late = with_stop(solution, "rep", arrival=13 * H, begin=13 * H, departure=13 * H)
    assert any("after the shift" in p for p in check(problem, late))
    wrong = msgspec.structs.replace(solution, unassigned=[Unassigned("C", "no_time", "Busy.")])
    assert any("but it is 'closed'" in p for p in check(problem, wrong))
    forgotten = msgspec.structs.replace(solution, unassigned=[])
    assert any("neither planned nor listed" in p for p in check(problem, forgotten))
    twice = msgspec.structs.replace(solution, routes=solution.routes * 2)
    assert any("planned twice" in p for p in check(problem, twice))
    summary = msgspec.structs.replace(solution.summary, priority_planned=99)
    assert any("priority_planned" in p for p in check(problem, msgspec.structs.replace(solution, summary=summary)))


def test_the_checker_requires_the_breaks_of_a_working_day():
    problem, solution = small_valid()
    lunch = Break(id="lunch", windows=[Window(11 * H, 12 * H)], service_s=600)
    vehicle = msgspec.structs.replace(problem.vehicles[0], breaks=[lunch])
    assert any("breaks taken" in p for p in check(msgspec.structs.replace(problem, vehicles=[vehicle]), solution))


# Validation names the field.


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"durations": None}, "durations: required"),
        ({"durations": [[0, 1], [1, 0]]}, "jobs[1].location: 2 is not a place (2 places)"),
        ({"durations": [[0, 1, 1], [1, 0], [1, 1, 0]]}, "durations[1]: 2 entries, expected 3"),
        ({"durations": [[0, 1, 1], [1, 0, -1], [1, 1, 0]]}, "durations[1][2]: -1"),
        ({"durations": [[0, 1, 1], [1, 5, 1], [1, 1, 0]]}, "durations[1][1]: 5"),
        ({"distances": [[0, 1], [1, 0]]}, "distances: 2 rows, expected 3"),
        ({"locations": [[0.0, 0.0]]}, "locations: 1 places, but durations has 3 rows"),
        ({"jobs": [Job(id="A", location=1), Job(id="A", location=2)]}, "jobs[1].id: 'A' is used"),
        ({"vehicles": [Vehicle(id="r", start=3, shift=Window(0, 10))]}, "vehicles[0].start: 3 is not a place"),
    ],
)
def test_a_bad_problem_is_refused_naming_the_field(change, message):
    problem = Problem(
        jobs=[Job(id="A", location=1), Job(id="B", location=2)],
        vehicles=[Vehicle(id="r", start=0, shift=Window(0, 10 * H))],
        durations=uniform(3, 60),
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        validate(msgspec.structs.replace(problem, **change))


def test_breaks_must_fit_the_shift_and_not_reuse_job_ids():
    def with_breaks(*breaks: Break) -> Problem:
        vehicle = Vehicle(id="r", start=0, shift=Window(8 * H, 12 * H), breaks=list(breaks))
        return Problem(jobs=[Job(id="A", location=1)], vehicles=[vehicle], durations=uniform(2, 60))

    with pytest.raises(ValueError, match=r"vehicles\[0\].breaks\[0\].id: 'A'"):
        validate(with_breaks(Break(id="A", windows=[Window(9 * H, 10 * H)], service_s=60)))
    with pytest.raises(ValueError, match="within the shift"):
        validate(with_breaks(Break(id="late", windows=[Window(11 * H + 1800, 13 * H)], service_s=H)))
    validate(with_breaks(Break(id="ok", windows=[Window(11 * H, 13 * H)], service_s=H)))


# `fieldbook route solve FILE.json`


def test_the_command_prints_the_solution_as_json(tmp_path, capsys):
    path = tmp_path / "day.json"
    path.write_text(
        json.dumps(
            {
                "jobs": [{"id": "A", "location": 1, "service_s": 600, "windows": [[32400, 36000]]}],
                "vehicles": [{"id": "rep", "start": 0, "shift": [28800, 43200]}],
                "locations": [[116.40, 39.90], [116.41, 39.91]],
                "time_limit_s": 0.1,
            }
        )
    )
    out = io.StringIO()
    assert run(str(path), out) == 0
    answer = json.loads(out.getvalue())
    assert answer["summary"]["planned"] == 1
    assert answer["routes"][0]["stops"][1]["begin"] == 32400
    assert answer["routes"][0]["distance_m"] > 1000  # the matrices were estimated from the locations


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"jobs": [{"id": "A", "location": "x"}], "vehicles": []}', "jobs[0].location: Expected `int`"),
        ('{"jobs": [], "vehicles": [{"id": "r", "start": 0, "shift": [5, 1]}]}', "vehicles[0].shift: a window ends"),
        ('{"jobs": [', "not valid JSON"),
        ('{"jobs": [], "vehicles": [{"id": "r", "start": 0, "shift": [0, 9]}]}', "durations: required"),
    ],
)
def test_the_command_explains_a_bad_file_in_one_line(tmp_path, capsys, body, says):
    path = tmp_path / "bad.json"
    path.write_text(body)
    out = io.StringIO()
    assert run(str(path), out) == 2
    assert out.getvalue() == ""
    err = capsys.readouterr().err.strip()
    assert err.startswith("fieldbook: error: ") and says in err and "\n" not in err


def test_the_command_says_when_the_file_is_missing(tmp_path, capsys):
    assert run(str(tmp_path / "none.json"), io.StringIO()) == 2
    assert "cannot read" in capsys.readouterr().err
