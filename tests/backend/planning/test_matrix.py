"""Travel matrices: the geodesic estimate, OSRM through a real fake server, and the fallback from every failure."""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Iterator

import msgspec
import pytest
from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from backend.planning.matrix import Matrices, TravelModel, estimate_matrices, travel_matrices
from backend.planning.osrm import MAX_URL_BYTES, table_blocks
from backend.settings import Settings, SettingsError, settings_from_env
from tests.fake_osrm import FakeOsrm, road_distance_m, road_duration_s

BERLIN = (13.4050, 52.5200)
# 0.009 degrees of latitude north of it: about 1 km.
NORTH_1KM = (13.4050, 52.5290)
# Straight lines at 10 m/s without parking: the numbers are easy to check by hand.
PLAIN = TravelModel(detour_factor=1.0, speed_kmh=36, parking_s=0)


def city(n: int, seed: int = 7) -> list[list[float]]:
    """n shops in central Shanghai, to five decimals (about a metre), as a rep's day might hold."""
    rng = random.Random(seed)
    return [[round(rng.uniform(121.40, 121.55), 5), round(rng.uniform(31.15, 31.30), 5)] for _ in range(n)]


def road(points: list[list[float]], parking_s: int = 0) -> tuple[list[list[int]], list[list[int]]]:
    """What the fake OSRM's formula gives for these points, after our rounding and parking."""
    durations, distances = [], []
    for i, a in enumerate(points):
        row_s, row_m = [], []
        for j, b in enumerate(points):
            seconds = round(road_duration_s((a[0], a[1]), (b[0], b[1])))
            metres = round(road_distance_m((a[0], a[1]), (b[0], b[1])))
            moving = i != j and (seconds > 0 or metres > 0)
            row_s.append(seconds + parking_s if moving else 0)
            row_m.append(metres if i != j else 0)
        durations.append(row_s)
        distances.append(row_m)
    return durations, distances


def osrm_settings(url: str, timeout_s: float = 5.0) -> Settings:
    return settings_from_env({}, osrm_url=url, osrm_timeout_s=timeout_s)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with FakeOsrm() as server:
        yield server


# The estimate


def test_a_known_pair_is_the_geodesic_distance():
    durations, distances = estimate_matrices([BERLIN, NORTH_1KM], PLAIN)
    expected = geodesic(BERLIN[::-1], NORTH_1KM[::-1]).meters  # geopy takes (lat, lng)
    assert 995 < expected < 1_005
    assert distances == [[0, round(expected)], [round(expected), 0]]
    assert durations == [[0, round(expected / 10)], [round(expected / 10), 0]]


def test_detour_speed_and_parking_are_applied():
    model = TravelModel(detour_factor=1.5, speed_kmh=18, parking_s=90)  # 18 km/h is 5 m/s
    durations, distances = estimate_matrices([BERLIN, NORTH_1KM], model)
    straight = geodesic(BERLIN[::-1], NORTH_1KM[::-1]).meters
    assert distances[0][1] == round(straight * 1.5)
    assert durations[0][1] == round(straight * 1.5 / 5) + 90


def test_the_default_model_is_a_city_by_car():
    model = TravelModel()
    assert (model.detour_factor, model.speed_kmh, model.parking_s) == (1.3, 30.0, 120)
    durations, distances = estimate_matrices([BERLIN, NORTH_1KM])
    road_m = geodesic(BERLIN[::-1], NORTH_1KM[::-1]).meters * 1.3
    assert distances[0][1] == round(road_m)
    assert durations[0][1] == round(road_m / (30 / 3.6)) + 120


@pytest.mark.parametrize(
    "fields", [{"detour_factor": 0.9}, {"detour_factor": 3.5}, {"speed_kmh": 2}, {"speed_kmh": 200}, {"parking_s": -1}]
)
def test_a_travel_model_out_of_bounds_is_refused(fields):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(fields, TravelModel)


@given(
    st.lists(
        st.tuples(st.floats(-180, 180), st.floats(-89.9, 89.9)).map(list),
        max_size=12,
    )
)
def test_the_estimate_is_square_symmetric_with_a_zero_diagonal(points):
    durations, distances = estimate_matrices(points)
    n = len(points)
    assert len(durations) == len(distances) == n
    for i in range(n):
        assert len(durations[i]) == len(distances[i]) == n
        assert durations[i][i] == distances[i][i] == 0
        for j in range(n):
            assert durations[i][j] == durations[j][i] >= 0
            assert distances[i][j] == distances[j][i] >= 0
            if i != j and distances[i][j] > 0:
                assert durations[i][j] >= 120  # parking on every leg that moves


def test_two_shops_at_one_place_have_a_free_leg():
    durations, distances = estimate_matrices([BERLIN, BERLIN, NORTH_1KM])
    assert durations[0][1] == distances[0][1] == 0
    assert durations[0][2] > 120 and durations[1][2] == durations[0][2]


def test_no_points_and_one_point():
    assert estimate_matrices([]) == ([], [])
    assert estimate_matrices([BERLIN]) == ([[0]], [[0]])


@pytest.mark.parametrize(
    "points", [[[52.52, 113.405]], [[13.4, 52.5, 7.0]], [[13.4]], [[float("nan"), 52.5]], [["east", 52.5]]]
)
def test_a_point_that_is_not_longitude_latitude_is_refused(points):
    with pytest.raises(ValueError, match="longitude, latitude"):
        estimate_matrices([BERLIN, *points])


# Settings


def test_osrm_settings_come_from_the_environment():
    assert settings_from_env({}).osrm_url == ""
    assert settings_from_env({}).osrm_timeout_s == 10
    settings = settings_from_env({"FIELDBOOK_OSRM_URL": "http://osrm:5000", "FIELDBOOK_OSRM_TIMEOUT_S": "2.5"})
    assert (settings.osrm_url, settings.osrm_timeout_s) == ("http://osrm:5000", 2.5)


@pytest.mark.parametrize(("name", "value"), [("FIELDBOOK_OSRM_URL", "osrm:5000"), ("FIELDBOOK_OSRM_TIMEOUT_S", "0")])
def test_a_bad_osrm_setting_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


# OSRM


async def test_without_an_osrm_url_the_network_is_never_touched(monkeypatch):
    attempts = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise ConnectionRefusedError("this test allows no network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    result = await travel_matrices(city(5), TravelModel(), settings_from_env({}))
    assert result == Matrices(durations=result.durations, distances=result.distances, source="estimate")
    assert (result.durations, result.distances) == estimate_matrices(city(5))
    assert attempts == []
    # The guard does see the client's connections: with a URL, it is asked.
    result = await travel_matrices(city(5), TravelModel(), osrm_settings("http://127.0.0.1:9"))
    assert result.source == "estimate" and attempts


async def test_values_come_from_osrm(osrm):
    points = city(12)
    result = await travel_matrices(points, PLAIN, osrm_settings(osrm.url))
    assert result.source == "osrm" and result.warning is None
    assert (result.durations, result.distances) == road(points)
    assert (result.durations, result.distances) != estimate_matrices(points, PLAIN)
    [request] = osrm.requests
    assert not request.explicit_selection and request.annotations == ["duration", "distance"]


async def test_parking_is_added_to_road_durations(osrm):
    points = [*city(4), city(4)[0]]  # the last shop shares the first one's address
    result = await travel_matrices(points, TravelModel(parking_s=300), osrm_settings(osrm.url))
    assert result.durations == road(points, parking_s=300)[0]
    assert result.durations[0][4] == result.durations[4][0] == 0


async def test_a_large_matrix_is_asked_for_in_blocks_and_assembled(osrm):
    points = city(250)
    result = await travel_matrices(points, PLAIN, osrm_settings(osrm.url))
    assert result.source == "osrm" and result.warning is None
    assert (result.durations, result.distances) == road(points)
    # Three chunks (100, 100, 50) each way: nine tables, none over OSRM's 100 x 100 nor 8 kB of URL.
    assert len(osrm.requests) == 9
    assert all(len(r.sources) * len(r.destinations) <= 100 * 100 for r in osrm.requests)
    assert all(len(osrm.url) + len(r.path) <= MAX_URL_BYTES for r in osrm.requests)
    sizes = sorted((len(r.sources), len(r.destinations)) for r in osrm.requests)
    assert sizes == sorted((a, b) for a in (100, 100, 50) for b in (100, 100, 50))


@given(st.integers(0, 350), st.sampled_from([MAX_URL_BYTES, 3_000]))
def test_blocks_cover_every_cell_once(n, max_url_bytes):
    points = city(n, seed=n)
    blocks = table_blocks("http://osrm:5000/", points, max_url_bytes=max_url_bytes)
    cells = [(i, j) for block in blocks for i in block.rows for j in block.cols]
    assert len(cells) == len(set(cells)) == n * n
    assert all(len(block.url) <= max_url_bytes and "//table" not in block.url for block in blocks)
    assert all(len(block.rows) <= 100 and len(block.cols) <= 100 for block in blocks)


async def test_pairs_osrm_cannot_connect_are_estimated(osrm, caplog):
    points = city(6)
    osrm.islands = {(points[5][0], points[5][1])}
    with caplog.at_level(logging.WARNING, logger="fieldbook.planning"):
        result = await travel_matrices(points, PLAIN, osrm_settings(osrm.url))
    assert result.source == "osrm"
    assert result.warning == "OSRM found no road route for 10 of 30 trips; those are straight-line estimates."
    road_s, road_m = road(points)
    estimate_s, estimate_m = estimate_matrices(points, PLAIN)
    for i in range(6):
        for j in range(6):
            by_estimate = (i == 5) != (j == 5)
            assert result.durations[i][j] == (estimate_s if by_estimate else road_s)[i][j]
            assert result.distances[i][j] == (estimate_m if by_estimate else road_m)[i][j]
    assert any(r.name == "fieldbook.planning" and "no route for 10" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        ("http_500", "OSRM answered HTTP 500"),
        ("invalid_query", "OSRM refused the request (InvalidQuery: Query string malformed close to position 42)"),
        ("not_ok", "OSRM refused the request (NoTable: No table found)"),
        ("hang", "OSRM did not answer within 0.3 s"),
        ("close", "The connection to OSRM failed (RemoteProtocolError)"),
        ("malformed", "OSRM sent something not a table"),
        ("wrong_shape", "OSRM sent durations of the wrong shape"),
    ],
)
async def test_every_failure_falls_back_to_the_estimate(osrm, caplog, misbehaviour, reason):
    osrm.misbehave = misbehaviour
    points = city(8)
    with caplog.at_level(logging.WARNING, logger="fieldbook.planning"):
        result = await travel_matrices(points, TravelModel(), osrm_settings(osrm.url, timeout_s=0.3))
    assert result.source == "estimate"
    assert (result.durations, result.distances) == estimate_matrices(points)
    assert result.warning == f"{reason}; travel times are straight-line estimates."
    assert len(osrm.requests) == 1
    [record] = [r for r in caplog.records if r.name == "fieldbook.planning"]
    assert record.levelno == logging.WARNING and reason.lower() in record.getMessage().lower()


async def test_a_failure_in_any_block_falls_back_whole(osrm):
    osrm.misbehave, osrm.misbehave_after = "http_500", 4
    points = city(250)
    result = await travel_matrices(points, PLAIN, osrm_settings(osrm.url))
    assert result.source == "estimate" and result.warning is not None and "HTTP 500" in result.warning
    assert (result.durations, result.distances) == estimate_matrices(points, PLAIN)


async def test_a_server_that_is_not_there_falls_back():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now: the connection is refused.
    result = await travel_matrices(city(3), TravelModel(), osrm_settings(f"http://127.0.0.1:{port}"))
    assert result.source == "estimate"
    assert result.warning == "The connection to OSRM failed (ConnectError); travel times are straight-line estimates."
