"""The timing rule (backend/planning/schedule.py), with every time worked out by hand."""

from __future__ import annotations

import pytest

from backend.planning.check import check_route
from backend.planning.problem import Break, Job, Problem, Vehicle, Window
from backend.planning.schedule import Infeasible, Scheduler, clock, merged_windows, schedule

H = 3600
# Four places; seconds between them, and metres = 10 x seconds.
D = [
    [0, 600, 1200, 900],
    [600, 0, 700, 800],
    [1200, 700, 0, 500],
    [900, 800, 500, 0],
]
M = [[10 * s for s in row] for row in D]


def rep(shift: tuple[int, int] = (8 * H, 18 * H), end: int | None = 0, breaks: list[Break] | None = None) -> Vehicle:
    return Vehicle(id="rep", start=0, end=end, shift=Window(*shift), breaks=breaks or [])


def problem(*jobs: Job, vehicle: Vehicle | None = None) -> Problem:
    return Problem(jobs=list(jobs), vehicles=[vehicle or rep()], durations=D, distances=M)


def timed(p: Problem, steps: list[str]) -> list[tuple[str, str, int, int, int, int]]:
    route = schedule(p, p.vehicles[0], steps)
    assert check_route(p, p.vehicles[0], route) == []
    return [(s.kind, s.id, s.arrival, s.begin, s.departure, s.travel_s) for s in route.stops]


def test_the_rep_waits_for_a_window_to_open():
    p = problem(Job(id="A", location=1, service_s=1800, windows=[Window(9 * H, 10 * H)]))
    route = schedule(p, p.vehicles[0], ["A"])
    assert [(s.kind, s.arrival, s.begin, s.departure) for s in route.stops] == [
        ("start", 28800, 28800, 28800),
        ("job", 29400, 32400, 34200),
        ("end", 34800, 34800, 34800),
    ]
    assert (route.travel_s, route.distance_m, route.waiting_s, route.service_s, route.break_s) == (
        1200,
        12000,
        3000,
        1800,
        0,
    )


def test_a_store_closed_at_lunch_is_visited_in_the_afternoon():
    lunch_closed = [Window(8 * H, 12 * H), Window(14 * H, 18 * H)]
    p = problem(
        Job(id="A", location=1, service_s=1800, windows=[Window(41_400, 18 * H)]),
        Job(id="B", location=2, service_s=3600, windows=lunch_closed),
    )
    # A ends at 12:00; B is reached at 12:11:40, inside the closure, so service begins at 14:00.
    assert timed(p, ["A", "B"])[2] == ("job", "B", 43_900, 50_400, 54_000, 700)


def test_service_may_begin_at_the_very_end_of_a_window_and_run_past_it():
    p = problem(Job(id="A", location=1, service_s=3600, windows=[Window(29_000, 29_400)]))
    assert timed(p, ["A"])[1] == ("job", "A", 29_400, 29_400, 33_000, 600)


def test_arriving_after_the_last_window_is_infeasible_and_says_why():
    p = problem(Job(id="A", location=1, windows=[Window(28_800, 29_000)]))
    with pytest.raises(Infeasible) as caught:
        schedule(p, p.vehicles[0], ["A"])
    assert caught.value.step == 0
    assert "08:10" in caught.value.reason and "08:03" in caught.value.reason


def test_a_closed_job_cannot_be_scheduled():
    p = problem(Job(id="A", location=1, windows=[]))
    with pytest.raises(Infeasible, match="closed"):
        schedule(p, p.vehicles[0], ["A"])


def test_a_visit_must_end_within_the_shift_even_on_an_open_day():
    p = problem(Job(id="A", location=1, service_s=601), vehicle=rep(shift=(8 * H, 8 * H + 1200), end=None))
    with pytest.raises(Infeasible, match="after the shift") as caught:
        schedule(p, p.vehicles[0], ["A"])
    assert caught.value.step == 0
    fits = problem(Job(id="A", location=1, service_s=600), vehicle=rep(shift=(8 * H, 8 * H + 1200), end=None))
    assert timed(fits, ["A"])[-1] == ("end", "rep", 30_000, 30_000, 30_000, 0)


def test_the_rep_must_be_back_by_the_end_of_the_shift():
    short = (8 * H, 8 * H + 1800)
    assert timed(problem(Job(id="A", location=1, service_s=600), vehicle=rep(shift=short)), ["A"])[-1][2] == 30_600
    late = problem(Job(id="A", location=1, service_s=601), vehicle=rep(shift=short))
    with pytest.raises(Infeasible, match="back at") as caught:
        schedule(late, late.vehicles[0], ["A"])
    assert caught.value.step == 1  # the end of the day, after the one step


def test_an_open_day_ends_at_the_last_visit():
    p = problem(Job(id="A", location=2, service_s=600), vehicle=rep(end=None))
    route = schedule(p, p.vehicles[0], ["A"])
    assert (route.stops[-1].location, route.stops[-1].arrival, route.stops[-1].travel_s) == (2, 30_600, 0)
    assert route.travel_s == 1200


def test_an_early_break_is_taken_on_the_way_after_driving_part_of_the_leg():
    # A ends at 08:20 at place 1; the break may start at 08:25, so the rep drives 300 of the 700 s to place 2,
    # takes 45 minutes, then drives the other 400 s. The leg's 7 km are shared 3 : 4.
    lunch = Break(id="lunch", windows=[Window(30_300, 40_000)], service_s=2700)
    p = problem(
        Job(id="A", location=1, service_s=600),
        Job(id="B", location=2),
        vehicle=rep(breaks=[lunch]),
    )
    route = schedule(p, p.vehicles[0], ["A", "lunch", "B"])
    assert check_route(p, p.vehicles[0], route) == []
    stops = {s.id: s for s in route.stops}
    assert (stops["lunch"].arrival, stops["lunch"].begin, stops["lunch"].departure) == (30_300, 30_300, 33_000)
    assert (stops["lunch"].travel_s, stops["lunch"].distance_m, stops["lunch"].location) == (300, 3000, None)
    assert (stops["B"].arrival, stops["B"].travel_s, stops["B"].distance_m) == (33_400, 400, 4000)
    assert route.stops[-1].arrival == 33_400 + 1200
    assert route.break_s == 2700


def test_a_break_that_opens_late_is_taken_at_the_next_place_while_waiting():
    lunch = Break(id="lunch", windows=[Window(32_000, 40_000)], service_s=2700)
    p = problem(Job(id="A", location=1, service_s=600), Job(id="B", location=2), vehicle=rep(breaks=[lunch]))
    steps = timed(p, ["A", "lunch", "B"])
    assert steps[2] == ("break", "lunch", 30_700, 32_000, 34_700, 700)
    assert steps[3] == ("job", "B", 34_700, 34_700, 34_700, 0)


def test_a_break_after_the_last_visit_of_an_open_day_ends_the_day():
    lunch = Break(id="lunch", windows=[Window(12 * H, 13 * H)], service_s=1800)
    p = problem(Job(id="A", location=1), vehicle=rep(end=None, breaks=[lunch]))
    steps = timed(p, ["A", "lunch"])
    assert steps[2] == ("break", "lunch", 29_400, 12 * H, 12 * H + 1800, 0)
    assert steps[3] == ("end", "rep", 12 * H + 1800, 12 * H + 1800, 12 * H + 1800, 0)


def test_a_break_whose_windows_have_closed_is_infeasible():
    lunch = Break(id="lunch", windows=[Window(8 * H, 8 * H + 60)], service_s=1800)
    p = problem(Job(id="A", location=1), vehicle=rep(breaks=[lunch]))
    with pytest.raises(Infeasible, match="break 'lunch'") as caught:
        schedule(p, p.vehicles[0], ["A", "lunch"])
    assert caught.value.step == 1


def test_the_parts_of_a_day_add_up_to_its_length():
    lunch = Break(id="lunch", windows=[Window(11 * H, 13 * H)], service_s=2700)
    p = problem(
        Job(id="A", location=1, service_s=1800, windows=[Window(9 * H, 10 * H)]),
        Job(id="B", location=3, service_s=900, windows=[Window(12 * H, 12 * H + 1800)]),
        Job(id="C", location=2, service_s=3600),
        vehicle=rep(breaks=[lunch]),
    )
    route = schedule(p, p.vehicles[0], ["A", "lunch", "B", "C"])
    length = route.stops[-1].arrival - route.stops[0].departure
    assert route.travel_s + route.waiting_s + route.service_s + route.break_s == length
    assert route.travel_s == D[0][1] + D[1][3] + D[3][2] + D[2][0]
    assert route.distance_m == M[0][1] + M[1][3] + M[3][2] + M[2][0]


def test_without_distances_every_leg_is_zero_metres():
    p = Problem(jobs=[Job(id="A", location=1)], vehicles=[rep()], durations=D)
    assert schedule(p, p.vehicles[0], ["A"]).distance_m == 0


def test_steps_must_be_known_and_not_repeated():
    p = problem(Job(id="A", location=1))
    with pytest.raises(ValueError, match="neither a job nor a break"):
        schedule(p, p.vehicles[0], ["Z"])
    with pytest.raises(ValueError, match="twice"):
        schedule(p, p.vehicles[0], ["A", "A"])


def test_feasibility_is_a_yes_or_no_on_the_same_rule():
    scheduler = Scheduler(problem(Job(id="A", location=1, windows=[Window(28_800, 29_000)]), Job(id="B", location=1)))
    vehicle = rep()
    assert scheduler.fits(vehicle, ["B"]) and not scheduler.fits(vehicle, ["A"])


def test_clock_reads_like_a_timetable():
    assert clock(8 * H + 5 * 60 + 59) == "08:05"
    assert clock(24 * H + H) == "day 2 01:00"


def test_windows_are_sorted_and_overlaps_joined():
    windows = [Window(50, 60), Window(0, 10), Window(5, 20), Window(21, 30)]
    assert merged_windows(windows) == [Window(0, 30), Window(50, 60)]
