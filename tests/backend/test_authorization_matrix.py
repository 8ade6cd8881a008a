"""Every endpoint x every role (anonymous, rep, supervisor, admin) x own or other organisation.

The route table below must match the app's routes exactly, so a new endpoint fails this module until its policy
is written down here. For each case the expected status follows from the policy: anonymous 401, a role outside
the policy 403 (and nothing written), an allowed role 2xx on its own organisation's object and 404 on another
organisation's (and nothing written).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.catalog import services as catalog
from backend.catalog.schemas import AssortmentCreate
from backend.inspections.tables import Inspection
from backend.photos import services as photos
from backend.photos.storage import PhotoStorage, storage_from_settings
from backend.planning import services as planning
from backend.planning.schemas import DayRequest
from backend.settings import Settings
from backend.stores import territories
from backend.stores.schemas import TerritoryCreate
from backend.tables_base import new_id, utcnow
from backend.visits.tables import Reminder, Visit
from tests.backend.photos import images
from tests.backend.photos.factories import visit_photo
from tests.world import Tenant

EVERYONE = frozenset({"rep", "supervisor", "admin"})
STAFF = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})
PUBLIC = frozenset({"anonymous", "rep", "supervisor", "admin"})


def unique() -> str:
    return uuid.uuid4().hex[:10]


async def fresh_territory(tenant: Tenant) -> uuid.UUID:
    admin = tenant.principal("admin", "admin")
    return (await territories.create_territory(admin, TerritoryCreate(name=f"T-{unique()}"))).id


async def fresh_assortment(tenant: Tenant) -> uuid.UUID:
    admin = tenant.principal("admin", "admin")
    rule = AssortmentCreate(product_id=tenant.ids["product"], chain=f"Chain-{unique()}")
    return (await catalog.create_assortment(admin, rule)).id


# The app's photo store, for fresh_photo (a photo is only served when its bytes are stored).
PHOTO_STORAGE: list[PhotoStorage] = []


@pytest.fixture(scope="module", autouse=True)
def photo_storage(settings: Settings) -> Iterator[None]:
    PHOTO_STORAGE.append(storage_from_settings(settings))
    yield
    PHOTO_STORAGE.clear()


async def fresh_photo(tenant: Tenant) -> str:
    """The SHA-256 of a new photo, stored, in a visit of the tenant's rep (so every role of it may see it)."""
    data = images.png(seed=uuid.uuid4().int)
    sha = images.sha256(data)
    await photos.store_photo(tenant.principal("rep", "rep"), PHOTO_STORAGE[0], sha, data, max_pixels=10**6)
    await visit_photo(tenant, "rep", sha)
    return sha


MATRIX_PHOTO = images.png(seed=424242)

Target = Callable[[Tenant], Awaitable[uuid.UUID | str]] | str | None


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    target: Target = None  # "ids:<key>" / "users:<who>" / an async factory making a fresh object
    body: Callable[[], Any] | None = None
    content_type: str = "application/json"
    ok: tuple[int, ...] = (200, 201, 204)
    # What the GET of the object answers afterwards, to prove a refused write changed nothing.
    check: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The URL, when the path's parameter names no object of either organisation (a content address).
    url: str | None = None
    # A body naming an object of the target organisation (a rep to plan for): own and other cases, like target.
    body_for: Callable[[Tenant], Any] | None = None


async def fresh_plan(tenant: Tenant) -> uuid.UUID:
    """A stored plan for the tenant's rep (whom the rep, their supervisor and the admin may all see)."""
    request = DayRequest(rep_id=tenant.users["rep"], date=dt.date(2031, 3, 3))
    return (await planning.plan_day(tenant.principal("admin", "admin"), request, PLANNING_SETTINGS[0])).id


PLANNING_SETTINGS: list[Settings] = []


async def fresh_inspection(tenant: Tenant) -> uuid.UUID:
    """An inspection of the tenant's rep (whom the rep, their supervisor and the admin may all see)."""
    visit_id, inspection_id = new_id(), new_id()
    rep, store = tenant.users["rep"], tenant.ids["store"]
    await Visit.insert(
        Visit(id=visit_id, org_id=tenant.org_id, rep_id=rep, store_id=store, state="checked_out", planned=False)
    ).run()
    await Inspection.insert(
        Inspection(
            id=inspection_id, org_id=tenant.org_id, visit_id=visit_id, store_id=store, rep_id=rep, started_at=utcnow()
        )
    ).run()
    return inspection_id


async def fresh_reminder(tenant: Tenant) -> uuid.UUID:
    """A due reminder of the tenant's rep."""
    reminder_id = new_id()
    await Reminder.insert(
        Reminder(id=reminder_id, org_id=tenant.org_id, user_id=tenant.users["rep"], text="Call back", due_at=utcnow())
    ).run()
    return reminder_id


def push_subscription() -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    encode = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    return {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{unique()}",
        "keys": {"p256dh": encode(point), "auth": encode(uuid.uuid4().bytes)},
    }


def report(name: str, **more: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"date_from": "2026-11-01", "date_to": "2026-11-23", **more}.items())
    return f"/api/v1/reports/inspections/{name}?{query}"


@pytest.fixture(scope="module", autouse=True)
def planning_settings(settings: Settings) -> Iterator[None]:
    PLANNING_SETTINGS.append(settings)
    yield
    PLANNING_SETTINGS.clear()


def plan_body(**more: Any) -> Callable[[Tenant], Any]:
    return lambda tenant: {"rep_id": str(tenant.users["rep"]), **more}


def store_csv() -> bytes:
    return f"code,name,channel,lat,lng\nIMP-{unique()},Imported shop,convenience,31.23,121.47\n".encode()


def product_csv() -> bytes:
    return f"code,name,brand,category,own_brand\nIMP-{unique()},Imported tea,B,C,false\n".encode()


def assortment_csv() -> bytes:
    # SKU-1 exists in both organisations (tests/world.py); never `replace`, which would delete the other rules.
    return f"product_code,chain\nSKU-1,Chain-{unique()}\n".encode()


ROUTES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/login"): Rule(
        PUBLIC, body=lambda: {"email": "nobody@x.test", "password": "whatever"}, ok=(401,)
    ),
    ("GET", "/api/v1/health"): Rule(PUBLIC),
    ("GET", "/api/v1/me"): Rule(EVERYONE),
    # A wrong current password: checks who may call it without logging the caller out of the other cases.
    ("POST", "/api/v1/me/password"): Rule(
        EVERYONE, body=lambda: {"current_password": "wrong password", "new_password": "a new long password"}, ok=(400,)
    ),
    ("GET", "/api/v1/users"): Rule(STAFF),
    ("POST", "/api/v1/users"): Rule(
        ADMIN,
        body=lambda: {"email": f"{unique()}@new.test", "password": "long enough password", "name": "N", "role": "rep"},
    ),
    ("GET", "/api/v1/users/{user_id:uuid}"): Rule(STAFF, target="users:rep"),
    ("PATCH", "/api/v1/users/{user_id:uuid}"): Rule(
        ADMIN, target="users:rep2", body=lambda: {"name": f"Renamed {unique()}"}, check="/api/v1/users/{id}"
    ),
    ("GET", "/api/v1/territories"): Rule(STAFF),
    ("POST", "/api/v1/territories"): Rule(ADMIN, body=lambda: {"name": f"Territory {unique()}"}),
    ("GET", "/api/v1/territories/{territory_id:uuid}"): Rule(STAFF, target="ids:territory"),
    ("PATCH", "/api/v1/territories/{territory_id:uuid}"): Rule(
        ADMIN, target=fresh_territory, body=lambda: {"name": f"Renamed {unique()}"}
    ),
    ("DELETE", "/api/v1/territories/{territory_id:uuid}"): Rule(
        ADMIN, target=fresh_territory, check="/api/v1/territories/{id}"
    ),
    ("GET", "/api/v1/stores"): Rule(EVERYONE),
    ("POST", "/api/v1/stores"): Rule(
        ADMIN, body=lambda: {"code": f"N-{unique()}", "name": "New", "channel": "other", "lat": 31.2, "lng": 121.4}
    ),
    ("GET", "/api/v1/stores/{store_id:uuid}"): Rule(EVERYONE, target="ids:store"),
    ("PATCH", "/api/v1/stores/{store_id:uuid}"): Rule(
        ADMIN, target="ids:store", body=lambda: {"name": f"Renamed {unique()}"}, check="/api/v1/stores/{id}"
    ),
    ("POST", "/api/v1/stores/import"): Rule(ADMIN, body=store_csv, content_type="text/csv"),
    ("GET", "/api/v1/stores/export"): Rule(STAFF),
    ("GET", "/api/v1/products"): Rule(EVERYONE),
    ("POST", "/api/v1/products"): Rule(
        ADMIN, body=lambda: {"code": f"P-{unique()}", "name": "New", "brand": "B", "category": "C", "own_brand": False}
    ),
    ("GET", "/api/v1/products/{product_id:uuid}"): Rule(EVERYONE, target="ids:product"),
    ("PATCH", "/api/v1/products/{product_id:uuid}"): Rule(
        ADMIN, target="ids:product", body=lambda: {"name": f"Renamed {unique()}"}, check="/api/v1/products/{id}"
    ),
    ("POST", "/api/v1/products/import"): Rule(ADMIN, body=product_csv, content_type="text/csv"),
    ("GET", "/api/v1/products/export"): Rule(EVERYONE),
    ("GET", "/api/v1/assortments"): Rule(EVERYONE),
    ("POST", "/api/v1/assortments"): Rule(ADMIN, body=None),  # body needs the caller's product: see _body
    ("GET", "/api/v1/assortments/{assortment_id:uuid}"): Rule(EVERYONE, target="ids:assortment"),
    ("PATCH", "/api/v1/assortments/{assortment_id:uuid}"): Rule(
        ADMIN, target=fresh_assortment, body=lambda: {"min_facings": 3}, check="/api/v1/assortments/{id}"
    ),
    ("DELETE", "/api/v1/assortments/{assortment_id:uuid}"): Rule(
        ADMIN, target=fresh_assortment, check="/api/v1/assortments/{id}"
    ),
    ("POST", "/api/v1/assortments/import"): Rule(ADMIN, body=assortment_csv, content_type="text/csv"),
    ("GET", "/api/v1/assortments/export"): Rule(EVERYONE),
    ("POST", "/api/v1/sync"): Rule(
        EVERYONE, body=lambda: {"protocol": 1, "schema_version": 1, "client_id": f"matrix-{unique()}", "changes": []}
    ),
    # Uploading stores the bytes in the caller's organisation whoever else has them: there is no "other" case.
    ("PUT", "/api/v1/photos/{sha256:str}"): Rule(
        EVERYONE,
        url=f"/api/v1/photos/{images.sha256(MATRIX_PHOTO)}",
        body=lambda: MATRIX_PHOTO,
        content_type="image/png",
        ok=(200, 201),
    ),
    ("HEAD", "/api/v1/photos/{sha256:str}"): Rule(EVERYONE, target=fresh_photo, ok=(200,)),
    ("GET", "/api/v1/visit-rules"): Rule(EVERYONE),
    ("PUT", "/api/v1/visit-rules"): Rule(ADMIN, body=lambda: {"fence_tolerance_m": 25.0}),
    ("GET", "/api/v1/team/day"): Rule(STAFF, url="/api/v1/team/day?date=2026-11-23"),
    ("GET", "/api/v1/team/live"): Rule(STAFF),
    ("GET", "/api/v1/reports/visits"): Rule(
        STAFF, url="/api/v1/reports/visits?date_from=2026-11-01&date_to=2026-11-23"
    ),
    ("GET", "/api/v1/photos/{sha256:str}"): Rule(EVERYONE, target=fresh_photo, ok=(200,)),
    ("GET", "/api/v1/inspections"): Rule(EVERYONE),
    ("GET", "/api/v1/inspections/{inspection_id:uuid}"): Rule(EVERYONE, target=fresh_inspection),
    ("GET", "/api/v1/inspection-rules"): Rule(EVERYONE),
    ("PUT", "/api/v1/inspection-rules"): Rule(ADMIN, body=lambda: {"expiry_warning_days": 7}),
    ("GET", "/api/v1/reports/inspections/out-of-stock"): Rule(EVERYONE, url=report("out-of-stock")),
    ("GET", "/api/v1/reports/inspections/compliance"): Rule(EVERYONE, url=report("compliance")),
    ("GET", "/api/v1/reports/inspections/prices"): Rule(EVERYONE, url=report("prices")),
    ("GET", "/api/v1/reports/inspections/expiring"): Rule(EVERYONE, url=report("expiring")),
    ("GET", "/api/v1/push/key"): Rule(EVERYONE),
    ("GET", "/api/v1/push/subscriptions"): Rule(EVERYONE),
    ("POST", "/api/v1/push/subscriptions"): Rule(EVERYONE, body=push_subscription),
    # Nobody has this endpoint: the policy lets every role ask, and the answer is the 404 of a device not theirs.
    ("DELETE", "/api/v1/push/subscriptions"): Rule(
        EVERYONE, body=lambda: {"endpoint": f"https://fcm.googleapis.com/fcm/send/{unique()}"}, ok=(404,)
    ),
    ("GET", "/api/v1/push/preferences"): Rule(EVERYONE),
    ("PUT", "/api/v1/push/preferences"): Rule(EVERYONE, body=lambda: {"quiet_start": "21:00", "quiet_end": "07:00"}),
    ("GET", "/api/v1/reminders"): Rule(EVERYONE),
    # A reminder is its user's alone: the rep's own answers 200, to anyone else it does not exist (tests/backend/push).
    ("POST", "/api/v1/reminders/{reminder_id:uuid}/snooze"): Rule(
        EVERYONE, target=fresh_reminder, body=lambda: {"minutes": 10}, ok=(200, 404)
    ),
    ("POST", "/api/v1/reminders/{reminder_id:uuid}/dismiss"): Rule(EVERYONE, target=fresh_reminder, ok=(200, 404)),
    ("GET", "/api/v1/planning/rules"): Rule(EVERYONE),
    ("PUT", "/api/v1/planning/rules"): Rule(ADMIN, body=lambda: {"day_start": "08:30", "day_end": "17:30"}),
    ("POST", "/api/v1/planning/day"): Rule(EVERYONE, body_for=plan_body(date="2031-03-03")),
    ("POST", "/api/v1/planning/replan"): Rule(
        EVERYONE,
        body_for=plan_body(date="2031-03-03", position={"lat": 31.23, "lng": 121.47}, at="2031-03-03T11:00:00+08:00"),
    ),
    ("POST", "/api/v1/planning/week"): Rule(EVERYONE, body_for=plan_body(start="2031-03-10", days=2)),
    ("POST", "/api/v1/planning/team"): Rule(
        STAFF, body_for=lambda tenant: {"date": "2031-03-03", "rep_ids": [str(tenant.users["rep"])]}
    ),
    ("GET", "/api/v1/planning/plans"): Rule(
        EVERYONE, url="/api/v1/planning/plans?date_from=2031-03-01&date_to=2031-03-31"
    ),
    ("GET", "/api/v1/planning/plans/{plan_id:uuid}"): Rule(EVERYONE, target=fresh_plan),
}

ROLES = ["anonymous", "rep", "supervisor", "admin"]


def _cases() -> list[Any]:
    cases = []
    for (method, path), rule in ROUTES.items():
        owners = ["own", "other"] if rule.target or rule.body_for else ["own"]
        for role, owner in itertools.product(ROLES, owners):
            cases.append(pytest.param(method, path, role, owner, id=f"{method} {path} {role} {owner}"))
    return cases


def test_every_route_has_a_policy(app: Any) -> None:
    routes = {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method != "OPTIONS" and not route.path.startswith("/schema")
    }
    assert routes == set(ROUTES), f"routes without a policy: {routes - set(ROUTES)}; stale: {set(ROUTES) - routes}"


async def _target_id(rule: Rule, tenant: Tenant) -> uuid.UUID | str | None:
    if rule.target is None:
        return None
    if callable(rule.target):
        return await rule.target(tenant)
    kind, key = rule.target.split(":")
    return tenant.users[key] if kind == "users" else tenant.ids[key]


def _body(method: str, path: str, rule: Rule, caller: Tenant, target: Tenant) -> Any:
    if rule.body_for is not None:
        return rule.body_for(target)
    if path == "/api/v1/assortments" and method == "POST":
        return {"product_id": str(caller.ids["product"]), "chain": f"Chain-{unique()}"}
    return rule.body() if rule.body else None


@pytest.mark.parametrize(("method", "path", "role", "owner"), _cases())
async def test_policy(world: Any, client: Any, method: str, path: str, role: str, owner: str) -> None:
    rule = ROUTES[(method, path)]
    caller = world.own
    target_tenant = world.own if owner == "own" else world.other
    object_id = await _target_id(rule, target_tenant)
    url = re.sub(r"\{[^}]+\}", str(object_id), path) if object_id else rule.url or path
    headers = {} if role == "anonymous" else caller.auth(role)
    body = _body(method, path, rule, caller, target_tenant)
    kwargs: dict[str, Any] = {}
    if body is not None:
        if rule.content_type == "application/json":
            kwargs["json"] = body
        else:
            kwargs["content"] = body
            headers = {**headers, "Content-Type": rule.content_type}
    before = await _snapshot(client, rule, target_tenant, object_id)

    response = await client.request(method, url, headers=headers, **kwargs)

    if role not in rule.roles:
        expected = {401} if role == "anonymous" else {403}
    elif owner == "other":
        expected = {404}
    else:
        expected = set(rule.ok)
    assert response.status_code in expected, f"{method} {url} as {role}: {response.status_code} {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert method == "HEAD" or response.json()["code"]  # a HEAD answer has no body
        assert await _snapshot(client, rule, target_tenant, object_id) == before, "a refused request wrote"
        return
    payload = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    if isinstance(payload, dict) and "items" in payload:
        _assert_only_own(payload["items"], caller)
    elif isinstance(payload, dict) and "org_id" in payload:
        assert payload["org_id"] == str(caller.org_id)


async def _snapshot(client: Any, rule: Rule, tenant: Tenant, object_id: uuid.UUID | None) -> Any:
    """The object as its tenant's admin sees it (None when there is nothing to compare)."""
    if rule.check is None or object_id is None:
        return None
    response = await client.get(rule.check.format(id=object_id), headers=tenant.auth("admin"))
    return response.status_code, response.json()


def _assert_only_own(items: list[dict[str, Any]], caller: Tenant) -> None:
    for item in items:
        if "org_id" in item:
            assert item["org_id"] == str(caller.org_id), f"another tenant's row leaked: {item}"
