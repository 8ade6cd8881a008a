"""Plausibility flags: each fires on its case, and a normal day's route raises none."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from backend.stores.schemas import Interval
from backend.visits.flags import Position, VisitFacts, flags_for
from backend.visits.rules import VisitRules

RULES = VisitRules()
T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
HOURS = {day: [Interval("08:00", "21:00")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def normal_day(visits: int = 8) -> list[VisitFacts]:
    """A rep driving east through Shanghai: stores ~1.9 km apart, 30 min in each, 15 min between them."""
    day = []
    for i in range(visits):
        lat, lng = 31.2300 + 0.0007 * (i % 3), 121.4400 + 0.02 * i  # ~1.9 km per 0.02 deg of longitude
        start = T0 + dt.timedelta(minutes=45 * i)
        check_in = Position(f"v{i}", f"s{i}", "check_in", start, lat + 0.00011 * i, lng, 8.0 + i)
        check_out = Position(f"v{i}", f"s{i}", "check_out", start + dt.timedelta(minutes=30), lat, lng + 0.0003, 12.0)
        day.append(
            VisitFacts(
                visit_id=f"v{i}",
                store_id=f"s{i}",
                check_in=check_in,
                check_out=check_out,
                stamped_at=start + dt.timedelta(seconds=2),
                received_at=start + dt.timedelta(hours=3),
                verdict="inside",
                distance_m=0.0,
                min_visit_minutes=5,
                opening_hours=HOURS,
                time_zone="Asia/Shanghai",
            )
        )
    return day


def timeline(day: list[VisitFacts]) -> list[Position]:
    return [p for v in day for p in (v.check_in, v.check_out) if p is not None]


def codes(visit: VisitFacts, day: list[VisitFacts]) -> list[str]:
    return [f.code for f in flags_for(visit, timeline(day), RULES)]


def test_a_normal_days_route_raises_no_flag() -> None:
    day = normal_day()
    for visit in day:
        assert flags_for(visit, timeline(day), RULES) == []


def replace(day: list[VisitFacts], index: int, **changes: object) -> list[VisitFacts]:
    day = list(day)
    day[index] = dataclasses.replace(day[index], **changes)
    return day


def moved(position: Position | None, **changes: object) -> Position:
    assert position is not None
    return dataclasses.replace(position, **changes)


def test_implied_speed_above_the_limit_is_flagged() -> None:
    day = normal_day()
    # Check in at store 5 two minutes after leaving store 4, ~2 km away: ~60 km/h is fine; 40 km in 10 min is not.
    far = moved(day[5].check_in, lng=day[4].check_out.lng + 0.42, at=day[4].check_out.at + dt.timedelta(minutes=10))
    day = replace(day, 5, check_in=far)
    assert "implausible_speed" in codes(day[5], day)
    message = next(f.message for f in flags_for(day[5], timeline(day), RULES) if f.code == "implausible_speed")
    assert "km/h" in message and "150" in message


def test_zero_accuracy_is_flagged() -> None:
    day = normal_day()
    day = replace(day, 2, check_in=moved(day[2].check_in, accuracy_m=0.0))
    assert codes(day[2], day) == ["zero_accuracy"]


def test_identical_coordinates_at_another_store_are_flagged() -> None:
    day = normal_day()
    copied = moved(day[6].check_in, lat=day[1].check_in.lat, lng=day[1].check_in.lng)
    day = replace(day, 6, check_in=copied)
    assert "repeated_coordinates" in codes(day[6], day)


def test_identical_coordinates_at_the_same_store_hours_apart_are_flagged_but_not_minutes_apart() -> None:
    first = normal_day(1)[0]
    later = dataclasses.replace(
        first,
        visit_id="v9",
        check_in=moved(first.check_in, visit_id="v9", at=first.check_in.at + dt.timedelta(hours=5)),
        check_out=moved(first.check_out, visit_id="v9", at=first.check_out.at + dt.timedelta(hours=5), lat=31.3),
    )
    assert "repeated_coordinates" in codes(later, [first, later])
    soon = dataclasses.replace(
        later,
        check_in=moved(first.check_in, visit_id="v9", at=first.check_out.at + dt.timedelta(minutes=5)),
        check_out=None,
    )
    assert "repeated_coordinates" not in codes(soon, [first, soon])


def test_a_device_clock_set_back_is_flagged() -> None:
    day = normal_day()
    visit = dataclasses.replace(day[3], stamped_at=day[3].check_in.at + dt.timedelta(hours=2))
    assert "device_time" in codes(visit, day)


def test_a_check_in_time_after_its_arrival_is_flagged_but_a_long_offline_period_is_not() -> None:
    day = normal_day()
    ahead = dataclasses.replace(day[3], received_at=day[3].check_in.at - dt.timedelta(minutes=30))
    assert "device_time" in codes(ahead, day)
    offline = dataclasses.replace(day[3], received_at=day[3].check_in.at + dt.timedelta(days=3))
    assert "device_time" not in codes(offline, day)


def test_a_check_out_far_from_the_check_in_is_flagged() -> None:
    day = normal_day()
    day = replace(day, 4, check_out=moved(day[4].check_out, lat=day[4].check_in.lat + 0.01))  # ~1.1 km north
    assert "far_checkout" in codes(day[4], day)


def test_a_visit_shorter_than_the_stores_minimum_is_flagged() -> None:
    day = normal_day()
    quick = moved(day[2].check_out, at=day[2].check_in.at + dt.timedelta(minutes=3))
    day = replace(day, 2, check_out=quick, min_visit_minutes=5)
    assert codes(day[2], day) == ["short_visit"]
    assert codes(dataclasses.replace(day[2], min_visit_minutes=0), day) == []


@pytest.mark.parametrize(("local_hour", "flagged"), [(7, True), (8, False), (20, False), (21, True), (23, True)])
def test_a_check_in_outside_opening_hours_is_flagged(local_hour: int, flagged: bool) -> None:
    day = normal_day(1)
    at = dt.datetime(2026, 11, 23, local_hour, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    visit = dataclasses.replace(
        day[0],
        check_in=moved(day[0].check_in, at=at),
        check_out=moved(day[0].check_out, at=at + dt.timedelta(minutes=20)),
        stamped_at=at,
        received_at=at + dt.timedelta(minutes=1),
    )
    assert ("outside_opening_hours" in codes(visit, [visit])) is flagged


def test_a_store_closed_that_day_flags_and_unknown_hours_do_not() -> None:
    visit = dataclasses.replace(normal_day(1)[0], opening_hours={"sat": [Interval("08:00", "20:00")]})  # a Monday
    assert "outside_opening_hours" in codes(visit, [visit])
    assert codes(dataclasses.replace(visit, opening_hours=None), [visit]) == []


def test_a_check_in_outside_the_fence_is_flagged_with_its_distance() -> None:
    visit = dataclasses.replace(normal_day(1)[0], verdict="outside", distance_m=412.0)
    found = flags_for(visit, timeline([visit]), RULES)
    assert [f.code for f in found] == ["outside_fence"] and "412 m" in found[0].message
