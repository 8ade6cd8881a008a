"""Quiet hours in the user's time zone, across midnight and across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.push.quiet import quiet_until

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "start", "end", "expected"),
    [
        # Shanghai (UTC+8, no DST): 23:00 local waits for 07:00 local.
        (at(2026, 11, 23, 15, 0), "Asia/Shanghai", "21:00", "07:00", at(2026, 11, 23, 23, 0)),
        # 06:59 local is still quiet; 07:00 is not; 20:59 is not; 21:00 is.
        (at(2026, 11, 23, 22, 59), "Asia/Shanghai", "21:00", "07:00", at(2026, 11, 23, 23, 0)),
        (at(2026, 11, 23, 23, 0), "Asia/Shanghai", "21:00", "07:00", None),
        (at(2026, 11, 23, 12, 59), "Asia/Shanghai", "21:00", "07:00", None),
        (at(2026, 11, 23, 13, 0), "Asia/Shanghai", "21:00", "07:00", at(2026, 11, 23, 23, 0)),
        # A lunchtime quiet period that does not cross midnight.
        (at(2026, 11, 23, 4, 30), "Asia/Shanghai", "12:00", "13:30", at(2026, 11, 23, 5, 30)),
        (at(2026, 11, 23, 3, 59), "Asia/Shanghai", "12:00", "13:30", None),
        # No quiet hours: missing or empty.
        (at(2026, 11, 23, 15, 0), "Asia/Shanghai", None, None, None),
        (at(2026, 11, 23, 15, 0), "Asia/Shanghai", "07:00", "07:00", None),
        # Berlin, the night summer time starts (02:00 -> 03:00 on 29 March 2026): 07:00 CEST is 05:00 UTC.
        (at(2026, 3, 28, 22, 0), "Europe/Berlin", "21:00", "07:00", at(2026, 3, 29, 5, 0)),
        # A quiet end inside the skipped hour ends at the first moment after it (03:00 CEST).
        (at(2026, 3, 28, 22, 0), "Europe/Berlin", "21:00", "02:30", at(2026, 3, 29, 1, 0)),
        # The night summer time ends (03:00 -> 02:00 on 25 October 2026): 07:00 CET is 06:00 UTC.
        (at(2026, 10, 24, 22, 0), "Europe/Berlin", "21:00", "07:00", at(2026, 10, 25, 6, 0)),
        # New York, the same morning in both offsets around its change (8 March 2026).
        (at(2026, 3, 8, 4, 0), "America/New_York", "22:00", "08:00", at(2026, 3, 8, 12, 0)),
        (at(2026, 3, 7, 4, 0), "America/New_York", "22:00", "08:00", at(2026, 3, 7, 13, 0)),
    ],
)
def test_quiet_until(now, zone, start, end, expected) -> None:
    assert quiet_until(now, zone, start, end) == expected
