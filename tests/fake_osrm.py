"""A stand-in for an OSRM server in tests: a real HTTP server on 127.0.0.1 that speaks the table service.

It parses what a real osrm-routed parses (the coordinates in the path, `sources`, `destinations`,
`annotations`), refuses what it refuses (a table over `max_table_size` squared cells: "TooBig"), and answers
with its own formula, so a test can tell a road value from our estimate: the haversine distance times 1.5, driven
at 36 km/h (10 m/s), rounded to 0.1 as OSRM does. It records every request, and can be told to misbehave.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

Misbehaviour = Literal[
    "none",
    "http_500",  # an internal error, plain text
    "invalid_query",  # HTTP 400 {"code": "InvalidQuery"}, as OSRM answers a query it cannot parse
    "not_ok",  # HTTP 200 with a code other than "Ok"
    "hang",  # answers only after the test ends
    "close",  # closes the connection without a word
    "malformed",  # truncated JSON
    "wrong_shape",  # a table missing its last row
]

Place = tuple[float, float]

_PATH = re.compile(r"^/table/v1/(?P<profile>[\w-]+)/(?P<coordinates>[^/?]+)$")


@dataclass(frozen=True)
class TableRequest:
    path: str  # as received, query included
    coordinates: list[Place]
    sources: list[int]  # resolved: every place when the request did not choose
    destinations: list[int]
    explicit_selection: bool  # the request named sources or destinations
    annotations: list[str]


def _place(place: Place) -> Place:
    return (round(place[0], 6), round(place[1], 6))


def road_distance_m(a: Place, b: Place) -> float:
    """The fake's road distance: haversine on a 6,371 km sphere times 1.5, to 0.1 m."""
    lng1, lat1, lng2, lat2 = (math.radians(v) for v in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return round(2 * 6_371_000 * math.asin(math.sqrt(h)) * 1.5, 1)


def road_duration_s(a: Place, b: Place) -> float:
    """The fake's road duration: its distance at 10 m/s, to 0.1 s."""
    return round(road_distance_m(a, b) / 10, 1)


def _indexes(value: str | None, count: int) -> list[int]:
    if value is None or value == "all":
        return list(range(count))
    indexes = [int(k) for k in value.split(";")]
    if any(not 0 <= k < count for k in indexes):
        raise IndexError(value)
    return indexes


def parse_request(path: str) -> TableRequest:
    """What OSRM would read from a table request; ValueError or IndexError when it would refuse it."""
    url = urlsplit(path)
    match = _PATH.match(url.path)
    if not match:
        raise ValueError(url.path)
    coordinates = []
    for pair in match["coordinates"].split(";"):
        lng, lat = (float(v) for v in pair.split(","))
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise ValueError(pair)
        coordinates.append((lng, lat))
    query = {key: values[-1] for key, values in parse_qs(url.query).items()}
    return TableRequest(
        path=path,
        coordinates=coordinates,
        sources=_indexes(query.get("sources"), len(coordinates)),
        destinations=_indexes(query.get("destinations"), len(coordinates)),
        explicit_selection="sources" in query or "destinations" in query,
        annotations=query.get("annotations", "duration").split(","),
    )


class _Server(ThreadingHTTPServer):
    fake: FakeOsrm

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a hanging answer is expected here


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, answer: dict[str, Any]) -> None:
        self._send(status, json.dumps(answer).encode())

    def do_GET(self) -> None:
        fake = self.server.fake
        try:
            request: TableRequest | None = parse_request(self.path)
        except (ValueError, IndexError):
            request = None
        with fake.lock:
            fake.requests.append(request or TableRequest(self.path, [], [], [], False, []))
            number = len(fake.requests)
        if fake.misbehave != "none" and number > fake.misbehave_after:
            self._misbehave(fake)
        elif request is None:
            self._json(400, {"code": "InvalidQuery", "message": "Query string malformed close to position 0"})
        elif len(request.sources) * len(request.destinations) > fake.max_table_size**2:
            self._json(400, {"code": "TooBig", "message": "Too many table coordinates"})
        else:
            self._json(200, fake.table(request))

    def _misbehave(self, fake: FakeOsrm) -> None:
        match fake.misbehave:
            case "http_500":
                self._send(500, b"Internal Server Error", "text/plain")
            case "invalid_query":
                self._json(400, {"code": "InvalidQuery", "message": "Query string malformed close to position 42"})
            case "not_ok":
                self._json(200, {"code": "NoTable", "message": "No table found"})
            case "hang":
                fake.release.wait(30)
            case "close":
                self.close_connection = True  # and say nothing
            case "malformed":
                self._send(200, b'{"code": "Ok", "durations": [[0, 1')
            case "wrong_shape":
                request = parse_request(self.path)
                answer = fake.table(request)
                answer["durations"] = answer["durations"][:-1]
                self._json(200, answer)


class FakeOsrm:
    """Start with `with FakeOsrm() as osrm:`; point the client at `osrm.url`; read `osrm.requests`.

    Set `misbehave` (after `misbehave_after` good answers) to fail, and `islands` to places the road network
    cannot reach from the rest: OSRM answers null between an island and anywhere off it."""

    def __init__(self, max_table_size: int = 100) -> None:
        self.max_table_size = max_table_size
        self.misbehave: Misbehaviour = "none"
        self.misbehave_after = 0
        self.islands: set[Place] = set()
        self.requests: list[TableRequest] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeOsrm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def table(self, request: TableRequest) -> dict[str, Any]:
        """OSRM's answer to a well-formed table request."""
        islands = {_place(p) for p in self.islands}

        def cell(metric: Any, a: int, b: int) -> float | None:
            origin, target = request.coordinates[a], request.coordinates[b]
            if (_place(origin) in islands) != (_place(target) in islands):
                return None
            return float(metric(origin, target))

        def waypoint(k: int) -> dict[str, Any]:
            return {"hint": "", "distance": 0.0, "name": "", "location": list(request.coordinates[k])}

        answer: dict[str, Any] = {
            "code": "Ok",
            "sources": [waypoint(a) for a in request.sources],
            "destinations": [waypoint(b) for b in request.destinations],
        }
        for name, metric in (("duration", road_duration_s), ("distance", road_distance_m)):
            if name in request.annotations:
                answer[f"{name}s"] = [[cell(metric, a, b) for b in request.destinations] for a in request.sources]
        return answer
