"""A bearer token is refused (401) in every way it can be wrong, and only then."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_SECRET
from tests.world import PASSWORD, login


def forge(user_id: uuid.UUID, *, secret: str = TEST_SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    now = dt.datetime.now(dt.UTC)
    payload = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
        "aud": "fieldbook",
        "iss": "fieldbook",
    }
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm=algorithm)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def me(client: Any, token: str) -> int:
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code


async def test_a_token_from_login_works(world, client):
    assert await me(client, world.own.tokens["rep"]) == 200


async def test_a_well_formed_token_of_ours_works(world, client):
    assert await me(client, forge(world.own.users["rep"])) == 200


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)}, id="expired"),
        pytest.param({"aud": "another-service"}, id="wrong-audience"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"sub": str(uuid.uuid4())}, id="unknown-user"),
        pytest.param({"sub": "not-a-uuid"}, id="garbage-subject"),
    ],
)
async def test_bad_claims_are_refused(world, client, claims):
    assert await me(client, forge(world.own.users["rep"], **claims)) == 401


async def test_another_secret_is_refused(world, client):
    assert await me(client, forge(world.own.users["rep"], secret="x" * 64)) == 401


async def test_a_tampered_token_is_refused(world, client):
    header, payload, signature = world.own.tokens["rep"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(world.own.users["admin"])  # try to become the admin
    assert await me(client, f"{header}.{b64(claims)}.{signature}") == 401
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert await me(client, f"{header}.{payload}.{flipped}") == 401


async def test_alg_none_is_refused(world, client):
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = {
        "sub": str(world.own.users["admin"]),
        "iat": now,
        "exp": now + 3600,
        "aud": "fieldbook",
        "iss": "fieldbook",
    }
    for alg in ("none", "None", "NONE"):
        assert await me(client, f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}.") == 401


async def test_malformed_authorization_headers_are_refused(client):
    for value in ("Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "bearer", "x" * 5000):
        response = await client.get("/api/v1/me", headers={"Authorization": value})
        assert response.status_code == 401, value


async def test_deactivated_users_token_and_login_are_refused(world, client):
    tenant = world.own
    token = await login(client, tenant.emails["rep3"])
    assert await me(client, token) == 200
    response = await client.patch(
        f"/api/v1/users/{tenant.users['rep3']}", json={"active": False}, headers=tenant.auth("admin")
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert await me(client, token) == 401
    assert await me(client, forge(tenant.users["rep3"])) == 401  # even a freshly signed one
    failed = await client.post("/api/v1/auth/login", json={"email": tenant.emails["rep3"], "password": PASSWORD})
    assert failed.status_code == 401


async def test_changing_the_password_ends_earlier_tokens(world, client):
    tenant = world.other  # its tokens are not needed after this test
    old = await login(client, tenant.emails["rep2"])
    import asyncio

    await asyncio.sleep(1.05)  # tokens carry whole seconds; the cut-off is the second of the change
    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "an entirely new passphrase"},
        headers={"Authorization": f"Bearer {old}"},
    )
    assert response.status_code == 200, response.text
    new = response.json()["access_token"]
    assert await me(client, old) == 401
    assert await me(client, new) == 200
    assert (
        await client.post("/api/v1/auth/login", json={"email": tenant.emails["rep2"], "password": PASSWORD})
    ).status_code == 401
    assert await login(client, tenant.emails["rep2"], "an entirely new passphrase")


async def test_password_change_checks_the_current_password_and_policy(world, client):
    headers = world.own.auth("supervisor2")
    wrong = await client.post(
        "/api/v1/me/password", json={"current_password": "nope nope nope", "new_password": "x" * 12}, headers=headers
    )
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "current_password"
    short = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    assert short.status_code == 400 and short.json()["errors"][0]["field"] == "new_password"
    assert await me(client, world.own.tokens["supervisor2"]) == 200  # nothing changed
