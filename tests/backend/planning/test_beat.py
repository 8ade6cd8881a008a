"""The beat plan: every store as often as its frequency says, on days it can be visited, with balanced days of
nearby stores (backend/planning/beat.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.planning.beat import BeatPlan, BeatStore, open_weekdays, plan_beat
from backend.stores.schemas import WEEKDAYS, Interval, Monthly, Weekly

MONDAY = dt.date(2025, 12, 1)  # four working weeks from here stay inside December
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def weeks(first_monday: dt.date, count: int) -> list[dt.date]:
    """Monday to Friday of `count` weeks."""
    return [first_monday + dt.timedelta(days=7 * w + d) for w in range(count) for d in range(5)]


def store(id: str, frequency: Weekly | Monthly, *, lat: float = 31.23, lng: float = 121.47, **kw) -> BeatStore:
    return BeatStore(id=id, lat=lat, lng=lng, frequency=frequency, **kw)


def visits(plan: BeatPlan, store_id: str) -> list[dt.date]:
    return sorted(day.date for day in plan.days if store_id in day.store_ids)


def week_of(day: dt.date, first_monday: dt.date = MONDAY) -> int:
    return (day - first_monday).days // 7


def assert_sound(plan: BeatPlan, stores: list[BeatStore], days: list[dt.date], minutes_per_day: int = 420) -> None:
    """What every plan promises, whatever the input."""
    by_id = {s.id: s for s in stores}
    assert [d.date for d in plan.days] == sorted(set(days))
    for day in plan.days:
        assert len(day.store_ids) == len(set(day.store_ids)), f"a store twice on {day.date}"
        for store_id in day.store_ids:
            assert WEEKDAYS[day.date.weekday()] in by_id[store_id].open_weekdays, f"{store_id} closed on {day.date}"
        assert day.visit_minutes == sum(by_id[s].visit_minutes for s in day.store_ids)
        assert day.minutes == day.visit_minutes + day.travel_minutes
        if day.minutes > minutes_per_day:  # only fixed visits may overload a day
            assert all(isinstance(by_id[s].frequency, Weekly) for s in day.store_ids), day
    assert plan.summary.overloaded == [d.date for d in plan.days if d.minutes > minutes_per_day]
    assert plan.summary.visits == sum(len(d.store_ids) for d in plan.days)
    assert plan.summary.unplannable == len(plan.unplannable)
    for move in plan.moved:
        assert move.to_date in visits(plan, move.store_id)
        assert week_of(move.to_date, move.from_date - dt.timedelta(days=move.from_date.weekday())) == 0
    for monthly in (s for s in stores if isinstance(s.frequency, Monthly)):
        dates = visits(plan, monthly.id)
        gap = 28 // (2 * monthly.frequency.times)
        assert all((b - a).days >= gap for a, b in itertools.pairwise(dates)), (monthly.id, dates)


def test_open_weekdays_come_from_opening_hours():
    hours = {
        "mon": [Interval("08:00", "12:00"), Interval("14:00", "18:00")],
        "tue": [],
        "sat": [Interval("09:00", "13:00")],
    }
    assert open_weekdays(hours) == {"mon", "sat"}  # left out or no interval: closed
    assert open_weekdays(None) == set(WEEKDAYS)  # unknown: assume open
    assert open_weekdays({}) == set()


def test_weekly_store_is_visited_on_each_of_its_weekdays_every_week():
    days = weeks(MONDAY, 4)
    plan = plan_beat([store("a", Weekly(weekdays=["mon", "thu"]))], days)
    assert visits(plan, "a") == [d for d in days if d.weekday() in (0, 3)]
    assert plan.moved == [] and plan.unplannable == []


def test_fortnightly_stores_alternate_weeks_and_split_between_odd_and_even_weeks():
    days = weeks(MONDAY, 4)
    stores = [store(f"s{i}", Weekly(weekdays=["tue"], every_weeks=2)) for i in range(10)]
    plan = plan_beat(stores, days)
    phases = Counter()
    for s in stores:
        dated = visits(plan, s.id)
        assert len(dated) == 2 and (dated[1] - dated[0]).days == 14
        phases[week_of(dated[0])] += 1
    assert phases == {0: 5, 1: 5}


def test_every_third_week_with_a_last_visit_keeps_its_rhythm():
    days = weeks(MONDAY, 6)
    last = MONDAY - dt.timedelta(days=12)  # Wednesday two weeks before: due in week 1, then week 4
    plan = plan_beat([store("a", Weekly(weekdays=["wed"], every_weeks=3))], days, last_visits={"a": last})
    assert [week_of(d) for d in visits(plan, "a")] == [1, 4]


@pytest.mark.parametrize(
    ("weeks_ago", "expected_weeks"),
    [(1, [1, 3]), (2, [0, 2]), (5, [0, 2])],  # 5: overdue, so due at once and then every other week
)
def test_last_visit_anchors_the_fortnight(weeks_ago: int, expected_weeks: list[int]):
    last = MONDAY + dt.timedelta(days=2 - 7 * weeks_ago)
    plan = plan_beat([store("a", Weekly(weekdays=["wed"], every_weeks=2))], weeks(MONDAY, 4), last_visits={"a": last})
    assert [week_of(d) for d in visits(plan, "a")] == expected_weeks


def test_last_visit_in_the_first_week_counts_for_its_weekday():
    days = weeks(MONDAY, 4)[1:]  # the plan starts on Tuesday; Monday's visit was already made
    a = store("a", Weekly(weekdays=["mon", "thu"]))
    with_last = plan_beat([a], days, last_visits={"a": MONDAY})
    assert visits(with_last, "a")[0] == MONDAY + dt.timedelta(days=3)
    assert len(visits(with_last, "a")) == 7 and with_last.moved == []
    # Not known to be visited: Monday's visit moves to the first working day of the week.
    without = plan_beat([a], days)
    assert visits(without, "a")[:2] == [MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=3)]
    assert [(m.from_date, m.to_date, m.why) for m in without.moved] == [
        (MONDAY, MONDAY + dt.timedelta(days=1), "not_working_day")
    ]


def test_a_holiday_moves_the_visit_to_the_nearest_open_day_of_the_same_week():
    holiday = MONDAY + dt.timedelta(days=9)  # Wednesday of the second week
    days = [d for d in weeks(MONDAY, 4) if d != holiday]
    stores = [
        store("any", Weekly(weekdays=["wed"])),
        store("no-tue", Weekly(weekdays=["wed"]), open_weekdays=frozenset({"mon", "wed", "thu", "fri"})),
    ]
    plan = plan_beat(stores, days)
    for s in stores:
        assert len(visits(plan, s.id)) == 4
    moved = {m.store_id: (m.from_date, m.to_date, m.why) for m in plan.moved}
    tuesday, thursday = holiday - dt.timedelta(days=1), holiday + dt.timedelta(days=1)
    assert moved == {"any": (holiday, tuesday, "not_working_day"), "no-tue": (holiday, thursday, "not_working_day")}


def test_a_weekday_the_store_is_closed_moves_and_says_why():
    plan = plan_beat([store("a", Weekly(weekdays=["mon"]), open_weekdays=frozenset({"tue", "wed"}))], weeks(MONDAY, 2))
    assert [d.weekday() for d in visits(plan, "a")] == [1, 1]
    assert {m.why for m in plan.moved} == {"closed"}


def test_visits_without_a_possible_day_are_reported():
    days = [d for d in weeks(MONDAY, 4) if week_of(d) != 2]  # the rep is off the third week
    sunday_only = frozenset({"sun"})
    stores = [
        store("weekly", Weekly(weekdays=["mon"])),
        store("weekly-sunday", Weekly(weekdays=["mon"]), open_weekdays=sunday_only),
        store("monthly-sunday", Monthly(times=1), open_weekdays=sunday_only),
        store("daily", Weekly(weekdays=["mon", "tue", "wed", "thu", "fri", "sat"])),
    ]
    plan = plan_beat(stores, days)
    reasons = Counter((u.store_id, u.reason) for u in plan.unplannable)
    assert reasons == {
        ("weekly", "no_working_day"): 1,
        ("weekly-sunday", "closed"): 3,
        ("weekly-sunday", "no_working_day"): 1,
        ("monthly-sunday", "closed"): 1,
        ("daily", "no_working_day"): 6,
        ("daily", "no_free_day"): 3,  # Saturday: Monday to Friday already have a visit
    }
    assert len(visits(plan, "weekly")) == 3 and len(visits(plan, "daily")) == 15
    assert_sound(plan, stores, days)


@pytest.mark.parametrize("times", [1, 2, 3, 4])
def test_monthly_store_is_visited_times_a_month_once_in_each_part(times: int):
    plan = plan_beat([store("a", Monthly(times=times))], weeks(MONDAY, 4))
    dated = visits(plan, "a")
    assert len(dated) == times
    parts = [(1 + k * 31 // times, (k + 1) * 31 // times) for k in range(times)]
    assert all(first <= d.day <= last for d, (first, last) in zip(dated, parts, strict=True))


def test_two_visits_of_a_monthly_store_never_come_closer_than_the_spacing():
    # Wednesdays are full: the only days with room are Monday 15 and Tuesday 16, in different halves of the month.
    days = [dt.date(2025, 12, 3), dt.date(2025, 12, 15), dt.date(2025, 12, 16), dt.date(2025, 12, 24)]
    busy = store("busy", Weekly(weekdays=["wed"]), visit_minutes=420)
    plan = plan_beat([busy, store("a", Monthly(times=2))], days)
    assert visits(plan, "a") == [dt.date(2025, 12, 15)]
    missed = [(u.due_from, u.due_to, u.reason) for u in plan.unplannable if u.store_id == "a"]
    assert missed == [(dt.date(2025, 12, 16), dt.date(2025, 12, 31), "over_capacity")]


def test_partial_months_count_by_the_middle_of_each_part():
    days = weeks(dt.date(2025, 11, 17), 4)  # Nov 17 to Dec 12: half of November, less than half of December
    stores = [store("once", Monthly(times=1)), store("twice", Monthly(times=2))]
    plan = plan_beat(stores, days)
    assert visits(plan, "once") == []  # Nov's middle (15th) is before, Dec's (16th) after: other plans
    nov, dec = visits(plan, "twice")
    assert 17 <= nov.day <= 30 and nov.month == 11 and dec.day <= 15 and dec.month == 12


@pytest.mark.parametrize("times", [1, 2, 4])
def test_consecutive_plans_neither_drop_nor_double_a_monthly_visit(times: int):
    start = dt.date(2025, 12, 29)  # 13 plans of four weeks cover 2026 up to Sunday 27 December
    a = store("a", Monthly(times=times))
    dated: list[dt.date] = []
    last: dict[str, dt.date] = {}
    for n in range(13):
        plan = plan_beat([a], weeks(start + dt.timedelta(weeks=4 * n), 4), last_visits=last)
        dated += visits(plan, "a")
        last = {"a": dated[-1]} if dated else {}
        assert plan.unplannable == []
    assert Counter(d.month for d in dated) == dict.fromkeys(range(1, 13), times)
    assert all(d.year == 2026 for d in dated)


def test_monthly_last_visit_is_respected():
    days = weeks(dt.date(2026, 1, 5), 4)
    a = store("a", Monthly(times=1))
    assert visits(plan_beat([a], days), "a") == [dt.date(2026, 1, 5)]  # nothing else on the plan: first day
    last = dt.date(2025, 12, 30)
    assert visits(plan_beat([a], days, last_visits={"a": last}), "a") == [last + dt.timedelta(days=14)]
    # Visited in the first half of December already: only the second half is due.
    b = store("b", Monthly(times=2))
    plan = plan_beat([b], weeks(dt.date(2025, 12, 8), 4), last_visits={"b": dt.date(2025, 12, 10)})
    assert len(visits(plan, "b")) == 1 and visits(plan, "b")[0] >= dt.date(2025, 12, 17)
    assert plan.unplannable == []  # the first half is done, not missed


def test_preferred_weekdays_are_honoured_when_possible():
    days = weeks(MONDAY, 4)
    stores = [
        store("thursdays", Monthly(times=4, weekdays=["thu"])),
        store("saturdays", Monthly(times=2, weekdays=["sat"])),  # the rep does not work Saturdays
        store("closed-thursday", Monthly(times=2, weekdays=["thu"]), open_weekdays=frozenset({"mon", "fri"})),
    ]
    plan = plan_beat(stores, days)
    assert [d.weekday() for d in visits(plan, "thursdays")] == [3, 3, 3, 3]
    assert len(visits(plan, "saturdays")) == 2
    assert {d.weekday() for d in visits(plan, "closed-thursday")} <= {0, 4}
    assert plan.unplannable == []


def test_full_days_push_flexible_visits_elsewhere_and_leave_out_the_lowest_priority():
    days = weeks(dt.date(2025, 12, 15), 1)
    stores = [store(f"s{i:02}", Monthly(times=1), priority=1 + i % 5) for i in range(20)]  # all in one place
    plan = plan_beat(stores, days, minutes_per_day=60)
    assert [len(d.store_ids) for d in plan.days] == [2] * 5
    left_out = {u.store_id for u in plan.unplannable}
    assert len(left_out) == 10 and {u.reason for u in plan.unplannable} == {"over_capacity"}
    planned = [s.priority for s in stores if s.id not in left_out]
    assert max(s.priority for s in stores if s.id in left_out) <= min(planned) and min(planned) == 3
    assert_sound(plan, stores, days, 60)


def test_fixed_visits_may_overload_a_day_and_the_summary_says_so():
    days = weeks(MONDAY, 4)
    stores = [store(f"s{i}", Weekly(weekdays=["mon"]), visit_minutes=60) for i in range(8)]
    plan = plan_beat([*stores, store("flex", Monthly(times=2))], days)
    mondays = [d for d in days if d.weekday() == 0]
    assert plan.summary.overloaded == mondays
    assert all(d.weekday() != 0 for d in visits(plan, "flex"))
    assert plan.summary.max_minutes == 480 and plan.summary.visits == 4 * 8 + 2


def test_workload_is_balanced_on_a_uniform_random_instance():
    rng = random.Random(7)
    stores = [
        store(
            f"s{i}",
            Monthly(times=rng.choice([1, 2])),
            lat=31.20 + rng.random() * 0.09,
            lng=121.40 + rng.random() * 0.10,
            visit_minutes=rng.choice([20, 30, 45]),
        )
        for i in range(80)
    ]
    days = weeks(MONDAY, 4)
    plan = plan_beat(stores, days)
    assert plan.unplannable == []
    assert plan.summary.max_minutes - plan.summary.min_minutes <= 45  # within the longest visit
    assert_sound(plan, stores, days)


def test_nearby_stores_share_days():
    rng = random.Random(3)

    def cluster(name: str, lat: float, lng: float) -> list[BeatStore]:
        return [
            store(f"{name}{i}", Monthly(times=1), lat=lat + rng.gauss(0, 0.005), lng=lng + rng.gauss(0, 0.005))
            for i in range(30)
        ]

    stores = cluster("west", 31.2, 121.3) + cluster("east", 31.2, 121.6)  # about 30 km apart
    rng.shuffle(stores)
    plan = plan_beat(stores, weeks(MONDAY, 4))
    mixed = [d.date for d in plan.days if len({s[0] for s in d.store_ids}) > 1]
    assert len(mixed) <= 1
    assert plan.summary.max_minutes - plan.summary.min_minutes <= 45


def test_a_given_travel_function_decides_what_is_near():
    # All stores at one spot, but the travel function says the even ones are an hour from the odd ones.
    stores = [store(f"{i:02}", Monthly(times=1)) for i in range(20)]

    def travel(a: BeatStore, b: BeatStore) -> float:
        return 0.0 if int(a.id) % 2 == int(b.id) % 2 else 60.0

    plan = plan_beat(stores, weeks(dt.date(2025, 12, 15), 1), travel=travel)
    assert plan.summary.visits == 20
    for day in plan.days:
        assert len({int(s) % 2 for s in day.store_ids}) == 1, day
        assert day.travel_minutes == 0


def test_the_plan_does_not_depend_on_the_order_of_stores():
    rng = random.Random(11)
    stores = [
        store(
            f"s{i}", rng.choice([Monthly(times=2), Weekly(weekdays=["tue"], every_weeks=2)]), lat=31 + rng.random() / 10
        )
        for i in range(40)
    ]
    days = weeks(MONDAY, 4)
    assert plan_beat(stores, days) == plan_beat(list(reversed(stores)), days)


def test_edge_cases():
    assert plan_beat([store("a", Monthly())], []).days == []
    with pytest.raises(ValueError, match="unique"):
        plan_beat([store("a", Monthly()), store("a", Monthly())], weeks(MONDAY, 1))


# -- the invariants on rep-sized random instances ---------------------------------------------------------------

open_days = st.just(frozenset(WEEKDAYS)) | st.frozensets(st.sampled_from(WEEKDAYS), min_size=1)
frequencies = st.one_of(
    st.builds(
        Weekly,
        weekdays=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True),
        every_weeks=st.integers(1, 4),
    ),
    st.builds(Monthly, times=st.integers(1, 4), weekdays=st.lists(st.sampled_from(WORKDAYS), max_size=2)),
)


@st.composite
def instances(draw):
    """300 stores over four weeks with a few holidays. Hypothesis chooses the kinds of store (frequency and open
    days), the capacity and the holidays; a seeded generator places the stores and deals the kinds out, since
    300 stores drawn one by one are more than Hypothesis will generate."""
    kinds = draw(st.lists(st.tuples(frequencies, open_days), min_size=1, max_size=12))
    rng = random.Random(draw(st.integers(0, 2**32)))
    stores = []
    for i in range(300):
        frequency, opens = rng.choice(kinds)
        stores.append(
            BeatStore(
                id=f"s{i:03}",
                lat=31.0 + rng.random() * 0.4,
                lng=121.2 + rng.random() * 0.5,
                frequency=frequency,
                open_weekdays=opens,
                visit_minutes=rng.choice([10, 15, 20, 30, 45, 60]),
                priority=rng.randint(1, 5),
            )
        )
    holidays = draw(st.sets(st.integers(0, 19), max_size=4))
    days = [d for i, d in enumerate(weeks(MONDAY, 4)) if i not in holidays]
    # Some monthly stores were visited in November: that covers none of December's parts but spaces the first.
    last = {
        s.id: MONDAY - dt.timedelta(days=rng.randint(1, 30))
        for s in stores
        if isinstance(s.frequency, Monthly) and rng.random() < 0.5
    }
    return stores, days, last, draw(st.sampled_from([240, 420]))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(instances())
def test_every_visit_due_is_planned_once_or_reported(instance):
    stores, days, last_visits, capacity = instance
    plan = plan_beat(stores, days, last_visits=last_visits, minutes_per_day=capacity)
    assert_sound(plan, stores, days, capacity)
    missed = Counter(u.store_id for u in plan.unplannable)
    for s in stores:
        dated = visits(plan, s.id)
        due = len(dated) + missed[s.id]
        if isinstance(s.frequency, Weekly):
            # No last visit: one phase of the first every_weeks weeks, then every every_weeks weeks.
            every = s.frequency.every_weeks
            nominal = [m.from_date for m in plan.moved if m.store_id == s.id]
            nominal += [u.due_from for u in plan.unplannable if u.store_id == s.id]
            nominal += [d for d in dated if d not in {m.to_date for m in plan.moved if m.store_id == s.id}]
            due_weeks = sorted({week_of(d) for d in nominal})
            assert due_weeks in [list(range(p, 4, every)) for p in range(min(every, 4))], (s, due_weeks)
            assert due == len(due_weeks) * len(s.frequency.weekdays)
            assert all(WEEKDAYS[d.weekday()] in s.frequency.weekdays for d in nominal)
        else:
            # All of December's parts have their middle in the horizon; a November visit covers none of them.
            assert due == s.frequency.times, (s, dated, missed[s.id])
            if s.id in last_visits and dated:
                assert (dated[0] - last_visits[s.id]).days >= 28 // (2 * s.frequency.times)
