"""Quiet hours: a non-urgent notification due at night waits for the morning, in the user's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def _time(hhmm: str) -> dt.time:
    hours, minutes = hhmm.split(":")
    return dt.time(int(hours) % 24, int(minutes))


def quiet_until(now: dt.datetime, zone: str, start: str | None, end: str | None) -> dt.datetime | None:
    """When the quiet period that `now` falls in ends (UTC), or None when `now` is not quiet.

    `start` and `end` are local wall-clock times ("21:00", "07:00"); the period runs across midnight when start is
    after end, and is empty when they are equal or either is missing. The end is the local wall-clock time on the
    right day, whatever the UTC offset is then: after a change to or from daylight saving time the morning is
    still 07:00 local (a time skipped by the change counts as the first moment after it)."""
    if not start or not end or start == end:
        return None
    local = now.astimezone(ZoneInfo(zone))
    begins, ends, time = _time(start), _time(end), local.time().replace(tzinfo=None)
    overnight = begins > ends
    quiet = (time >= begins or time < ends) if overnight else (begins <= time < ends)
    if not quiet:
        return None
    day = local.date() + dt.timedelta(days=1) if overnight and time >= begins else local.date()
    wall = dt.datetime.combine(day, ends)
    return _instant(wall, ZoneInfo(zone))


def _instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time; a time skipped by a DST change maps to the end of the gap."""
    moment = wall
    for _ in range(24 * 60):  # gaps are at most hours long
        instant = moment.replace(tzinfo=zone).astimezone(dt.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == moment:
            return instant
        moment += dt.timedelta(minutes=1)
    return wall.replace(tzinfo=zone).astimezone(dt.UTC)
