import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.stores.schemas import WEEKDAYS, Interval, Monthly, Weekly
from backend.stores.text_formats import format_frequency, format_opening_hours, parse_frequency, parse_opening_hours


def test_parse_opening_hours():
    hours = parse_opening_hours("mon-fri 08:00-12:00 14:00-20:00; sat 9:00-13:00; sun closed")
    assert hours["mon"] == [Interval("08:00", "12:00"), Interval("14:00", "20:00")]
    assert hours["sat"] == [Interval("09:00", "13:00")]
    assert "sun" not in hours
    assert parse_opening_hours("") is None
    assert parse_opening_hours('{"tue": [["00:00", "24:00"]]}') == {"tue": [Interval("00:00", "24:00")]}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mon 08:00-12:00 11:00-14:00", "overlap"),
        ("mon 12:00-08:00", "after"),
        ("mon 08:00-25:00", "00:00 to 24:00"),
        ("funday 08:00-12:00", "unknown day"),
        ("fri-mon 08:00-12:00", "backwards"),
        ("mon 08:00-12:00; mon 13:00-14:00", "twice"),
        ("mon", "give times"),
        ("mon 8-12", "not an interval"),
    ],
)
def test_bad_opening_hours_say_why(text, says):
    with pytest.raises(ValueError, match=says):
        parse_opening_hours(text)


def test_parse_frequency():
    assert parse_frequency("weekly:mon,thu") == Weekly(weekdays=["mon", "thu"])
    assert parse_frequency("every 2 weeks:tue") == Weekly(weekdays=["tue"], every_weeks=2)
    assert parse_frequency("monthly") == Monthly(times=1)
    assert parse_frequency("monthly:2:mon,wed") == Monthly(times=2, weekdays=["mon", "wed"])
    assert parse_frequency("Weekly:mon-fri") == Weekly(weekdays=["mon", "tue", "wed", "thu", "fri"])
    with pytest.raises(ValueError, match="unknown frequency"):
        parse_frequency("fortnightly")
    with pytest.raises(msgspec.ValidationError):
        parse_frequency("every 13 weeks:mon")


times = st.integers(0, 24 * 60).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")


@st.composite
def opening_hours(draw):
    hours = {}
    for day in draw(st.lists(st.sampled_from(WEEKDAYS), unique=True)):
        cuts = sorted(draw(st.lists(st.integers(0, 24 * 60), min_size=2, max_size=6, unique=True)))
        pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
        hours[day] = [Interval(f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}") for a, b in pairs]
    return hours


@given(opening_hours())
def test_opening_hours_round_trip(hours):
    text = format_opening_hours(hours)
    assert (parse_opening_hours(text) or {}) == {d: i for d, i in hours.items() if i}


@given(
    st.one_of(
        st.builds(
            Weekly,
            weekdays=st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True),
            every_weeks=st.integers(1, 12),
        ),
        st.builds(Monthly, times=st.integers(1, 4), weekdays=st.lists(st.sampled_from(WEEKDAYS), unique=True)),
    )
)
def test_frequency_round_trip(frequency):
    assert parse_frequency(format_frequency(frequency)) == frequency
