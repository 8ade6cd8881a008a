"""The planner's problem and solution: the JSON that `fieldbook route solve` reads and prints, and what the
planning services build from stores, reps and their day (docs/planning.md).

Times are whole seconds from the problem's origin (for a rep's day: local midnight), durations are seconds and
distances metres. Places are indexes into `locations` ([longitude, latitude], as in GeoJSON and VROOM) and/or
into the `durations` / `distances` matrices; without matrices they are computed from the locations
(backend/planning/matrix.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Seconds = Annotated[int, Meta(ge=0, le=14 * 86_400, description="Seconds from the problem's origin")]
Duration = Annotated[int, Meta(ge=0, le=86_400, description="Seconds")]
Index = Annotated[int, Meta(ge=0, le=100_000, description="A place: index into locations / the matrices")]
Name = Annotated[str, Meta(min_length=1, max_length=100)]


class Window(msgspec.Struct, array_like=True, frozen=True):
    """[start, end]: service may begin at any time in it (inclusive)."""

    start: Seconds
    end: Seconds

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a window ends ({self.end}) before it starts ({self.start})")


class Job(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A store to visit."""

    id: Name
    location: Index
    service_s: Duration = 0
    # None: any time. []: closed that day (never planned; reason "closed"). Several: e.g. closed at lunch.
    windows: list[Window] | None = None
    # The first objective is the sum of the priorities of the planned jobs; travel time is the second.
    priority: Annotated[int, Meta(ge=1, le=100)] = 1


class Break(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rest the rep takes wherever they are, starting within one of its windows."""

    id: Name
    windows: Annotated[list[Window], Meta(min_length=1)]
    service_s: Duration


class Vehicle(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rep's day: where it starts and ends, the working time (travel and visits inside it), the breaks."""

    id: Name
    start: Index
    shift: Window
    end: Index | None = None  # None: the day ends at the last visit
    breaks: list[Break] = msgspec.field(default_factory=list)


class Problem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    jobs: list[Job]
    vehicles: Annotated[list[Vehicle], Meta(min_length=1)]
    locations: list[Annotated[list[float], Meta(min_length=2, max_length=2)]] = msgspec.field(default_factory=list)
    durations: list[list[int]] | None = None  # seconds, square, one row per place
    distances: list[list[int]] | None = None  # metres, the same shape
    time_limit_s: Annotated[float, Meta(gt=0, le=600)] = 1.0
    # "auto": the default (VROOM); "best": VROOM then PyVRP within the time limit, the better plan kept.
    solver: Literal["auto", "pyvrp", "vroom", "best"] = "auto"


class Stop(msgspec.Struct, frozen=True):
    kind: Literal["start", "job", "break", "end"]
    id: str  # the job's or break's id; the vehicle's for start and end
    location: int | None  # None for a break (taken where the rep is)
    arrival: int
    begin: int  # service begins (after waiting for a window to open)
    departure: int
    travel_s: int  # the leg that reached this stop
    distance_m: int


class Route(msgspec.Struct, frozen=True):
    vehicle: str
    stops: list[Stop]
    travel_s: int
    distance_m: int
    service_s: int  # visits only
    waiting_s: int
    # Breaks taken; travel + waiting + service + breaks = the end stop's arrival - the start stop's departure.
    break_s: int = 0


UnassignedReason = Literal["closed", "out_of_range", "no_time"]


class Unassigned(msgspec.Struct, frozen=True):
    """A job left out and why: closed that day; out of range (cannot be done within any rep's working time even
    alone); no time (fits alone, not with the rest of the day)."""

    id: str
    reason: UnassignedReason
    detail: str


class Summary(msgspec.Struct, frozen=True):
    planned: int
    priority_planned: int
    priority_total: int
    travel_s: int
    distance_m: int


class Solution(msgspec.Struct, frozen=True):
    routes: list[Route]
    unassigned: list[Unassigned]
    summary: Summary
    solver: str
    solve_ms: float
