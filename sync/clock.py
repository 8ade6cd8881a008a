"""Hybrid logical clocks (Kulkarni et al., "Logical Physical Clocks", 2014).

A timestamp is (wall, counter, node): `wall` is milliseconds since the Unix epoch (48 bits, good until the year
10889), `counter` orders events within one millisecond (16 bits), `node` names the replica and breaks ties, so
the order is total. The clock never runs backwards, stays close to physical time, and after `receive` is later
than everything it has seen. The string form `{wall:012x}-{counter:04x}` sorts like the clock (the node travels
beside it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_WALL = (1 << 48) - 1
MAX_COUNTER = (1 << 16) - 1
NODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HLC_PATTERN = re.compile(r"([0-9a-f]{12})-([0-9a-f]{4})")


class ClockError(Exception):
    """The clock cannot give a timestamp: the counter would overflow, or a remote clock is too far ahead."""


class ClockSkew(ClockError):
    def __init__(self, remote_wall: int, local_wall: int, bound_ms: int):
        super().__init__(f"remote clock is {remote_wall - local_wall} ms ahead (at most {bound_ms} ms allowed)")
        self.remote_wall = remote_wall
        self.local_wall = local_wall


@dataclass(frozen=True, order=True, slots=True)
class Hlc:
    wall: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if not 0 <= self.wall <= MAX_WALL:
            raise ValueError(f"wall {self.wall} out of range")
        if not 0 <= self.counter <= MAX_COUNTER:
            raise ValueError(f"counter {self.counter} out of range")
        if not NODE_PATTERN.fullmatch(self.node):
            raise ValueError(f"node {self.node!r} must be 1-64 characters of A-Z a-z 0-9 _ -")

    @property
    def stamp(self) -> str:
        """The time part as a fixed-width string that sorts like (wall, counter)."""
        return f"{self.wall:012x}-{self.counter:04x}"

    @classmethod
    def parse(cls, stamp: str, node: str) -> Hlc:
        match = _HLC_PATTERN.fullmatch(stamp)
        if not match:
            raise ValueError(f"{stamp!r} is not an HLC stamp like 0193c2d4e5f6-0000")
        return cls(int(match.group(1), 16), int(match.group(2), 16), node)


def physical_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """One replica's clock. `now()` stamps a local event; `receive()` merges a remote stamp first."""

    def __init__(self, node: str, *, physical: Callable[[], int] = physical_ms, max_drift_ms: int | None = None):
        self.node = node
        self._physical = physical
        self._max_drift_ms = max_drift_ms
        self.last = Hlc(0, 0, node)

    def physical(self) -> int:
        """Physical time in milliseconds, as this clock reads it."""
        return self._physical()

    def now(self) -> Hlc:
        pt = self._physical()
        if pt > self.last.wall:
            self.last = Hlc(pt, 0, self.node)
        else:
            self.last = Hlc(self.last.wall, self._next(self.last.counter), self.node)
        return self.last

    def receive(self, remote: Hlc) -> Hlc:
        """Advance past `remote`; raises ClockSkew when it is further ahead of physical time than allowed."""
        pt = self._physical()
        if self._max_drift_ms is not None and remote.wall - pt > self._max_drift_ms:
            raise ClockSkew(remote.wall, pt, self._max_drift_ms)
        wall = max(self.last.wall, remote.wall, pt)
        if wall == self.last.wall == remote.wall:
            counter = self._next(max(self.last.counter, remote.counter))
        elif wall == self.last.wall:
            counter = self._next(self.last.counter)
        elif wall == remote.wall:
            counter = self._next(remote.counter)
        else:
            counter = 0
        self.last = Hlc(wall, counter, self.node)
        return self.last

    @staticmethod
    def _next(counter: int) -> int:
        if counter >= MAX_COUNTER:
            # 65,536 events in one millisecond, or a remote far ahead: refuse rather than break the order.
            raise ClockError("HLC counter overflow")
        return counter + 1
