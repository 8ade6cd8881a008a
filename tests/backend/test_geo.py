from hypothesis import given
from hypothesis import strategies as st

from backend.geo import distance_m, polygon_offset_m, polygon_problem


def square(lng: float, lat: float, d: float = 0.001) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d], [lng, lat]]],
    }


def test_valid_polygons():
    assert polygon_problem(square(121.47, 31.23)) is None
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(121.47, 31.23)["coordinates"], square(121.5, 31.23)["coordinates"]],
    }
    assert polygon_problem(multi) is None


def test_invalid_polygons_say_why():
    assert "Polygon" in polygon_problem({"type": "Point", "coordinates": [1, 2]})
    assert "closed" in polygon_problem({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})
    assert "4 positions" in polygon_problem({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]})
    assert "out of range" in polygon_problem({"type": "Polygon", "coordinates": [[[200, 0], [1, 0], [1, 1], [200, 0]]]})
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    assert "not a valid polygon" in polygon_problem(bowtie)
    assert "numbers" in polygon_problem({"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], ["a", 0]]]})
    assert polygon_problem({"type": "Polygon", "coordinates": []}) is not None


def test_offset_is_zero_inside_and_metres_outside():
    fence = square(121.47, 31.23)
    assert polygon_offset_m(fence, 31.2305, 121.4705) == 0.0
    # 0.001 degree of latitude is about 111 m
    assert 105 < polygon_offset_m(fence, 31.232, 121.4705) < 117


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
def test_distance_is_symmetric_and_positive(lat, lng, dlat, dlng):
    a = distance_m(lat, lng, lat + dlat, lng + dlng)
    b = distance_m(lat + dlat, lng + dlng, lat, lng)
    assert a >= 0 and abs(a - b) < 1e-6


@given(st.floats(-85, 85), st.floats(-180, 180), st.floats(-85, 85), st.floats(-180, 180))
def test_distance_agrees_with_geopys_geodesic(lat1, lng1, lat2, lng2):
    from geopy.distance import geodesic

    reference = geodesic((lat1, lng1), (lat2, lng2)).meters
    assert abs(distance_m(lat1, lng1, lat2, lng2) - reference) <= max(1e-3, reference * 1e-9)
