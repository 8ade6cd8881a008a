"""A client for OSRM's table service: one road matrix of durations and distances between many places.

API: https://project-osrm.org/docs/v5.24.0/api/#table-service. A request names the places in its path
(`/table/v1/driving/{lng},{lat};{lng},{lat};...`) and may pick some of them as `sources` (rows) and
`destinations` (columns). The answer is `{"code": "Ok", "durations": [[s, ...]], "distances": [[m, ...]]}` with
`null` for a pair the road graph cannot connect; any other `code` is an error, sent with HTTP 400.

osrm-routed refuses a table with more than `--max-table-size` (default 100) squared cells, and long URLs are
refused by proxies long before they reach it, so a big matrix is asked for in blocks of at most 100 x 100 whose
URLs stay under 8 kB, and assembled here. Every failure becomes an `OsrmError` whose message is short enough to
show to a person; backend/planning/matrix.py decides what to do about it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import msgspec
import numpy as np
import numpy.typing as npt

# osrm-routed's default --max-table-size: sources times destinations may not exceed its square.
MAX_TABLE_SIZE = 100
# Many proxies and servers cap a request line at 8 KiB; stay under it with room for the request's other parts.
MAX_URL_BYTES = 8_000
# Blocks in flight at once: enough to hide latency, few enough not to crowd a small shared OSRM server.
PARALLEL_REQUESTS = 4

FloatMatrix = npt.NDArray[np.float64]


class OsrmError(Exception):
    """OSRM gave no usable matrix. The message is one short clause, e.g. "OSRM answered HTTP 500"."""


@dataclass(frozen=True)
class Block:
    """One table request: the places `rows` (sources) to the places `cols` (destinations), by global index."""

    rows: range
    cols: range
    url: str


class _Table(msgspec.Struct):
    code: str
    message: str = ""
    durations: list[list[float | None]] | None = None
    distances: list[list[float | None]] | None = None


def _coordinate(point: Sequence[float]) -> str:
    # Six decimals is about 0.1 m: finer than OSRM snaps to, and it keeps 200 places well inside MAX_URL_BYTES.
    return f"{point[0]:.6f},{point[1]:.6f}"


def _block_url(base_url: str, points: Sequence[Sequence[float]], rows: range, cols: range) -> str:
    if rows == cols:
        # A square block on the diagonal: every place is both a source and a destination, OSRM's default.
        places: Sequence[int] = rows
        selection = ""
    else:
        places = [*rows, *cols]
        sources = ";".join(str(k) for k in range(len(rows)))
        destinations = ";".join(str(k) for k in range(len(rows), len(rows) + len(cols)))
        selection = f"&sources={sources}&destinations={destinations}"
    path = ";".join(_coordinate(points[k]) for k in places)
    return f"{base_url}/table/v1/driving/{path}?annotations=duration,distance{selection}"


def table_blocks(
    base_url: str,
    points: Sequence[Sequence[float]],
    *,
    max_table_size: int = MAX_TABLE_SIZE,
    max_url_bytes: int = MAX_URL_BYTES,
) -> list[Block]:
    """The requests that together cover the full `len(points)` squared matrix: one when the points fit in one
    table, else every pair of chunks of at most `max_table_size` points, halved until each URL fits."""
    base_url = base_url.rstrip("/")
    n = len(points)
    size = max_table_size
    while True:
        starts = range(0, n, size)
        chunks = [range(start, min(start + size, n)) for start in starts]
        blocks = [Block(rows, cols, _block_url(base_url, points, rows, cols)) for rows in chunks for cols in chunks]
        if all(len(block.url.encode()) <= max_url_bytes for block in blocks):
            return blocks
        if size == 1:
            raise OsrmError("the OSRM URL is too long even for one place")
        size = max(1, size // 2)


def _cells(values: list[list[float | None]] | None, name: str, rows: int, cols: int) -> FloatMatrix:
    if values is None:
        raise OsrmError(f"OSRM sent no {name}")
    if len(values) != rows or any(len(row) != cols for row in values):
        raise OsrmError(f"OSRM sent {name} of the wrong shape")
    cells = np.array([[math.nan if v is None else v for v in row] for row in values], dtype=np.float64)
    # NaN (a null) is allowed through: the caller fills it. Negative or infinite values are not.
    if np.any(cells < 0) or np.any(np.isinf(cells)):
        raise OsrmError(f"OSRM sent impossible {name}")
    return cells


def parse_table(status: int, body: bytes, rows: int, cols: int) -> tuple[FloatMatrix, FloatMatrix]:
    """(durations in seconds, distances in metres) from one table answer of `rows` x `cols`, NaN where OSRM
    answered null; raises OsrmError for an error, a malformed answer or the wrong shape."""
    try:
        table = msgspec.json.decode(body, type=_Table)
    except msgspec.DecodeError:  # also ValidationError: JSON, but not a table
        reason = f"OSRM answered HTTP {status}" if status != 200 else "OSRM sent something not a table"
        raise OsrmError(reason) from None
    if table.code != "Ok":
        detail = f": {table.message[:120]}" if table.message else ""
        raise OsrmError(f"OSRM refused the request ({table.code}{detail})")
    if status != 200:
        raise OsrmError(f"OSRM answered HTTP {status}")
    return _cells(table.durations, "durations", rows, cols), _cells(table.distances, "distances", rows, cols)


async def _fetch_block(client: httpx.AsyncClient, block: Block, timeout_s: float) -> tuple[FloatMatrix, FloatMatrix]:
    try:
        response = await client.get(block.url)
    except httpx.TimeoutException:
        raise OsrmError(f"OSRM did not answer within {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise OsrmError(f"the connection to OSRM failed ({type(exc).__name__})") from None
    return parse_table(response.status_code, response.content, len(block.rows), len(block.cols))


async def fetch_table(
    base_url: str, points: Sequence[Sequence[float]], timeout_s: float
) -> tuple[FloatMatrix, FloatMatrix]:
    """The road matrices between all `points` ([lng, lat]) from the OSRM server at `base_url`: (durations in
    seconds, distances in metres), n x n floats, NaN where OSRM found no route. Raises OsrmError."""
    n = len(points)
    durations = np.full((n, n), math.nan)
    distances = np.full((n, n), math.nan)
    blocks = table_blocks(base_url, points)
    limit = asyncio.Semaphore(PARALLEL_REQUESTS)

    async def fetch(block: Block) -> None:
        async with limit:
            seconds, metres = await _fetch_block(client, block, timeout_s)
        where = (slice(block.rows.start, block.rows.stop), slice(block.cols.start, block.cols.stop))
        durations[where] = seconds
        distances[where] = metres

    headers = {"Accept": "application/json", "User-Agent": "fieldbook"}
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as client:
        try:
            # A TaskGroup cancels the other blocks as soon as one fails: the matrix is useless without it.
            async with asyncio.TaskGroup() as group:
                for block in blocks:
                    group.create_task(fetch(block))
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
    return durations, distances
