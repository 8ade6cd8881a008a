"""Bad input gets a 4xx problem+json that names the field and the problem, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from backend.catalog.barcodes import with_check_digit

VALID_STORE = {"code": "BAD-1", "name": "Shop", "channel": "convenience", "lat": 31.2, "lng": 121.4}
VALID_PRODUCT = {"code": "BAD-P", "name": "Tea", "brand": "B", "category": "Drinks", "own_brand": True}


async def totals(client: Any, headers: dict[str, str]) -> tuple[int, ...]:
    counts = []
    for path in ("/api/v1/stores", "/api/v1/products", "/api/v1/users", "/api/v1/territories", "/api/v1/assortments"):
        response = await client.get(path, params={"limit": 1}, headers=headers)
        counts.append(response.json()["total"])
    return tuple(counts)


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] and body["title"]
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        # A field inside a map is named by msgspec without its key: opening_hours[...][0].
        assert any(f == field or f.startswith(f"{field}[") for f in fields), f"{field} not named in {body}"
    return body


CASES = [
    ("POST", "/api/v1/stores", {**VALID_STORE, "lat": 91}, "lat"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "lat": -90.5}, "lat"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "lng": 180.01}, "lng"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "lat": "north"}, "lat"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "lat": None}, "lat"),
    ("POST", "/api/v1/stores", {k: v for k, v in VALID_STORE.items() if k != "code"}, "code"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "code": ""}, "code"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "code": "has space"}, "code"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "channel": "spaceport"}, "channel"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "priority": 9}, "priority"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "geofence": {"kind": "circle", "radius_m": 1}}, "geofence.radius_m"),
    ("POST", "/api/v1/stores", {**VALID_STORE, "geofence": {"kind": "hexagon"}}, "geofence.kind"),
    (
        "POST",
        "/api/v1/stores",
        {
            **VALID_STORE,
            "geofence": {
                "kind": "polygon",
                # a bow tie: the ring crosses itself
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [
                        [[121.4, 31.2], [121.401, 31.201], [121.401, 31.2], [121.4, 31.201], [121.4, 31.2]]
                    ],
                },
            },
        },
        "geofence.polygon",
    ),
    (
        "POST",
        "/api/v1/stores",
        {
            **VALID_STORE,
            "geofence": {
                "kind": "polygon",
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]],
                },
            },
        },
        "geofence.polygon",  # in Paris, 9,000 km from the store
    ),
    ("POST", "/api/v1/stores", {**VALID_STORE, "opening_hours": {"mon": [["12:00", "08:00"]]}}, "opening_hours"),
    (
        "POST",
        "/api/v1/stores",
        {**VALID_STORE, "opening_hours": {"mon": [["08:00", "13:00"], ["12:00", "18:00"]]}},
        "opening_hours",
    ),
    ("POST", "/api/v1/stores", {**VALID_STORE, "opening_hours": {"funday": []}}, "opening_hours"),
    (
        "POST",
        "/api/v1/stores",
        {**VALID_STORE, "visit_frequency": {"kind": "weekly", "weekdays": []}},
        "visit_frequency.weekdays",
    ),
    ("POST", "/api/v1/stores", {**VALID_STORE, "assigned_rep_id": "not-a-uuid"}, "assigned_rep_id"),
    ("POST", "/api/v1/products", {**VALID_PRODUCT, "barcode": with_check_digit("690123456789")[:-1] + "0"}, "barcode"),
    ("POST", "/api/v1/products", {**VALID_PRODUCT, "barcode": "69012345678A"}, "barcode"),
    ("POST", "/api/v1/products", {**VALID_PRODUCT, "barcode": "12345"}, "barcode"),
    ("POST", "/api/v1/products", {**VALID_PRODUCT, "rrp_minor": -5}, "rrp_minor"),
    ("POST", "/api/v1/products", {**VALID_PRODUCT, "rrp_minor": 1.5}, "rrp_minor"),
    (
        "POST",
        "/api/v1/users",
        {"email": "not-an-email", "password": "long enough pw", "name": "X", "role": "rep"},
        "email",
    ),
    ("POST", "/api/v1/users", {"email": "ok@x.test", "password": "short", "name": "X", "role": "rep"}, "password"),
    (
        "POST",
        "/api/v1/users",
        {"email": "ok@x.test", "password": "long enough pw", "name": "X", "role": "root"},
        "role",
    ),
    (
        "POST",
        "/api/v1/users",
        {"email": "ok@x.test", "password": "long enough pw", "name": "X", "role": "rep", "time_zone": "Mars/Olympus"},
        "time_zone",
    ),
    ("POST", "/api/v1/territories", {"name": "T", "polygon": {"type": "Point", "coordinates": [1, 2]}}, "polygon"),
    ("POST", "/api/v1/assortments", {"product_id": "00000000-0000-0000-0000-000000000000", "chain": "X"}, "product_id"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"), CASES, ids=[f"{c[1]} {c[3]} #{i}" for i, c in enumerate(CASES)]
)
async def test_invalid_field_is_named_and_nothing_written(world, client, method, path, body, field):
    headers = world.own.auth("admin")
    before = await totals(client, headers)
    response = await client.request(method, path, json=body, headers=headers)
    assert_problem(response, 400, field)
    assert await totals(client, headers) == before


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/api/v1/stores", {"org_id": "00000000-0000-0000-0000-000000000001"}),
        ("/api/v1/stores", {"created_by": "someone"}),
        ("/api/v1/users", {"org_id": "00000000-0000-0000-0000-000000000001"}),
        ("/api/v1/products", {"id": "00000000-0000-0000-0000-000000000001"}),
    ],
)
async def test_smuggled_fields_are_refused(world, client, path, extra):
    base = {
        "/api/v1/stores": {**VALID_STORE, "code": "SMUG-1"},
        "/api/v1/users": {"email": "smug@x.test", "password": "long enough pw", "name": "S", "role": "rep"},
        "/api/v1/products": {**VALID_PRODUCT, "code": "SMUG-P"},
    }[path]
    headers = world.own.auth("admin")
    before = await totals(client, headers)
    response = await client.post(path, json={**base, **extra}, headers=headers)
    assert_problem(response, 400, next(iter(extra)))
    assert await totals(client, headers) == before


async def test_role_cannot_be_smuggled_into_a_patch_of_oneself(world, client):
    response = await client.patch(
        f"/api/v1/users/{world.own.users['rep']}", json={"role": "admin"}, headers=world.own.auth("rep")
    )
    assert_problem(response, 403)
    me = await client.get("/api/v1/me", headers=world.own.auth("rep"))
    assert me.json()["user"]["role"] == "rep"


async def test_an_admin_patch_with_org_id_is_refused(world, client):
    response = await client.patch(
        f"/api/v1/stores/{world.own.ids['store']}",
        json={"org_id": str(world.other.org_id)},
        headers=world.own.auth("admin"),
    )
    assert_problem(response, 400, "org_id")


@pytest.mark.parametrize("raw", [b"{", b"{'code': 1}", b"[]", b"null", b"\xff\xfe", b'{"code": "x",}', b""], ids=repr)
async def test_malformed_json_is_a_400_naming_the_body(world, client, raw):
    headers = {**world.own.auth("admin"), "Content-Type": "application/json"}
    before = await totals(client, world.own.auth("admin"))
    response = await client.post("/api/v1/stores", content=raw, headers=headers)
    assert_problem(response, 400, "body")
    assert await totals(client, world.own.auth("admin")) == before


async def test_oversize_body_is_413(world, client, settings):
    body = b'{"name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    response = await client.post(
        "/api/v1/stores", content=body, headers={**world.own.auth("admin"), "Content-Type": "application/json"}
    )
    body = assert_problem(response, 413)
    assert body["code"] == "request.too_large"


@pytest.mark.parametrize(
    ("param", "value"), [("limit", "0"), ("limit", "501"), ("limit", "ten"), ("offset", "-1"), ("active", "maybe")]
)
async def test_bad_query_parameters_are_named(world, client, param, value):
    response = await client.get("/api/v1/stores", params={param: value}, headers=world.own.auth("admin"))
    assert_problem(response, 400, param)


async def test_duplicates_are_409_with_a_code(world, client):
    headers = world.own.auth("admin")
    response = await client.post("/api/v1/stores", json={**VALID_STORE, "code": "STORE-1"}, headers=headers)
    assert assert_problem(response, 409)["code"] == "store.code_taken"
    email = world.own.emails["rep"]
    response = await client.post(
        "/api/v1/users",
        json={"email": email.upper(), "password": "long enough pw", "name": "Dup", "role": "rep"},
        headers=headers,
    )
    assert assert_problem(response, 409)["code"] == "user.email_taken"


async def test_references_to_another_tenant_are_invalid(world, client):
    headers = world.own.auth("admin")
    response = await client.post(
        "/api/v1/stores",
        json={**VALID_STORE, "code": "REF-1", "assigned_rep_id": str(world.other.users["rep"])},
        headers=headers,
    )
    assert_problem(response, 400, "assigned_rep_id")
    response = await client.post(
        "/api/v1/assortments", json={"product_id": str(world.other.ids["product"]), "chain": "X"}, headers=headers
    )
    assert_problem(response, 400, "product_id")


async def test_unknown_routes_and_methods_are_problem_json(world, client):
    assert_problem(await client.get("/api/v1/nothing-here", headers=world.own.auth("admin")), 404)
    assert_problem(await client.put("/api/v1/stores", headers=world.own.auth("admin")), 405)


FAR = ("9999-12-31", "0001-01-01")


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/visits?date_from={d}&date_to={d}",
        "/api/v1/team/day?date={d}",
        "/api/v1/inspections?date_from={d}",
        "/api/v1/planning/plans?date_from={d}&date_to={d}",
        "/api/v1/reports/inspections/out-of-stock?date_from={d}&date_to={d}",
    ],
)
async def test_dates_beyond_any_work_are_refused_not_a_crash(world, client, url, day):
    answer = await client.get(url.format(d=day), headers=world.own.auth("admin"))
    assert answer.status_code == 400, answer.text
    assert "date" in answer.json()["errors"][0]["field"]


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/planning/day", {"date": "{d}"}),
        ("/api/v1/planning/week", {"start": "{d}"}),
        ("/api/v1/planning/team", {"date": "{d}", "rep_ids": []}),
    ],
)
async def test_plans_for_dates_beyond_any_work_are_refused(world, client, path, body, day):
    rep = str(world.own.users["rep"])
    payload = {k: v.format(d=day) if isinstance(v, str) else [rep] for k, v in body.items()}
    if path != "/api/v1/planning/team":
        payload["rep_id"] = rep
    answer = await client.post(path, json=payload, headers=world.own.auth("admin"))
    assert answer.status_code == 400, answer.text
    assert "must be between 1970-01-01 and 2999-12-31" in answer.text
