"""Login: the right answer for the right password, argon2id at OWASP cost, rate limits that can't be dodged."""

from __future__ import annotations

import pytest

from backend.auth.passwords import HASHER
from backend.auth.throttle import client_address
from backend.orgs.tables import User
from tests.conftest import make_settings
from tests.world import PASSWORD

IP_LIMIT = 12


@pytest.fixture(scope="module")
def settings(database_url, tmp_path_factory):
    return make_settings(
        database_url,
        tmp_path_factory.mktemp("data"),
        login_max_failures_per_account=5,
        login_max_failures_per_ip=IP_LIMIT,
    )


async def test_login_returns_a_token_and_the_user(world, client):
    response = await client.post("/api/v1/auth/login", json={"email": world.own.emails["rep"], "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2
    assert body["user"]["email"] == world.own.emails["rep"] and body["user"]["role"] == "rep"
    assert "password_hash" not in body["user"]


async def test_email_is_case_insensitive(world, client):
    response = await client.post(
        "/api/v1/auth/login", json={"email": world.own.emails["rep2"].upper(), "password": PASSWORD}
    )
    assert response.status_code == 200


async def test_wrong_password_and_unknown_email_answer_alike(world, client):
    wrong = await client.post("/api/v1/auth/login", json={"email": world.own.emails["rep2"], "password": "wrong!!"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@nowhere.test", "password": "wrong!!"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_passwords_are_argon2id_at_owasp_cost(world):
    row = await User.select(User.password_hash).where(User.id == world.own.users["rep"]).first().run()
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert HASHER.time_cost >= 2 and HASHER.memory_cost >= 19456 and HASHER.parallelism == 1


async def test_account_locks_after_five_failures_even_for_the_right_password(world, client):
    email = world.own.emails["supervisor2"]
    for _ in range(5):
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": "bad password"})
        assert response.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.too_many_attempts"
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60


async def test_spoofed_forwarded_for_does_not_reset_the_address_count(world, client):
    # The test client's socket address is 203.0.113.7 and it is not a trusted proxy.
    answers = []
    for attempt in range(IP_LIMIT + 3):
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": f"probe{attempt}@nowhere.test", "password": "guess"},
            headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
        )
        answers.append(response.status_code)
    assert 429 in answers
    assert answers[-1] == 429, answers
    # The address limit holds for a real account too.
    blocked = await client.post("/api/v1/auth/login", json={"email": world.own.emails["admin"], "password": PASSWORD})
    assert blocked.status_code == 429


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    assert client_address("203.0.113.7", "1.2.3.4", []) == "203.0.113.7"
    assert client_address("10.0.0.2", "1.2.3.4", ["10.0.0.2"]) == "1.2.3.4"
    # A client prepends a fake hop; the proxy appends the real one: the right-most untrusted hop wins.
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4", ["10.0.0.2"]) == "1.2.3.4"
    assert client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.1", ["10.0.0.2", "10.0.0.1"]) == "1.2.3.4"
    assert client_address(None, None, []) == "unknown"
