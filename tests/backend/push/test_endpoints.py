"""The request-forgery guard on push endpoints, and the size of a push message."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from backend.push.endpoints import PublicResolver, endpoint_problem, is_public
from backend.push.payload import MAX_PLAINTEXT, message, topic
from backend.settings import Settings
from backend.tables_base import utcnow

PLAIN = Settings()
WITH_FAKE = Settings(push_extra_hosts=["127.0.0.1:8443", "*.push.example.net"], push_allow_private=True)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXuTKWDgS",
        "https://fcm.googleapis.com:443/fcm/send/x",
    ],
)
def test_the_major_push_services_are_allowed(endpoint: str) -> None:
    assert endpoint_problem(endpoint, PLAIN) is None


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "https"),
        ("https://evil.example.com/push", "not a known push service"),
        ("https://fcm.googleapis.com.evil.com/x", "not a known push service"),
        ("https://push.services.mozilla.com/x", "not a known push service"),  # "*." needs a subdomain
        ("https://fcm.googleapis.com:8443/x", "not a known push service"),
        ("https://user:pw@fcm.googleapis.com/x", "credentials"),
        ("https://127.0.0.1/push", "not a known push service"),
        ("https://169.254.169.254/latest/meta-data", "not a known push service"),
        ("https://[::1]/push", "not a known push service"),
        ("https://fcm.googleapis.com/" + "x" * 1100, "longer than"),
        ("https://fcm.googleapis.com:99999/x", "not a URL"),
        ("fcm.googleapis.com/x", "https"),
    ],
)
def test_other_endpoints_are_refused(endpoint: str, problem: str) -> None:
    found = endpoint_problem(endpoint, PLAIN)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1", "::127.0.0.1",
                "64:ff9b::7f00:1", "2002:7f00:1::", "fe80::1", "0.0.0.0"],
)  # fmt: skip
def test_addresses_that_lead_back_inside_are_not_public(address: str) -> None:
    assert not is_public(address)
    listed = Settings(push_extra_hosts=[address if ":" not in address else "unused.example"])
    if ":" not in address:
        assert "not a public address" in (endpoint_problem(f"https://{address}/x", listed) or "")


def test_public_addresses_are() -> None:
    assert is_public("142.250.74.10") and is_public("2a00:1450:4001:82b::200a")
    assert "not a known push service" in (endpoint_problem("https://fcm.googleapis.com:0/x", PLAIN) or "")


def test_an_operator_may_add_hosts_and_private_addresses_need_a_second_yes() -> None:
    assert endpoint_problem("https://127.0.0.1:8443/push/x", WITH_FAKE) is None
    assert endpoint_problem("https://relay.push.example.net/x", WITH_FAKE) is None
    listed_only = Settings(push_extra_hosts=["127.0.0.1:8443", "10.1.2.3"])
    assert "not a public address" in (endpoint_problem("https://127.0.0.1:8443/push/x", listed_only) or "")
    assert "not a public address" in (endpoint_problem("https://10.1.2.3/x", listed_only) or "")


async def test_names_that_resolve_to_private_addresses_are_refused_on_connect() -> None:
    resolver = PublicResolver(allow_private=False)
    try:
        with pytest.raises(OSError, match="non-public"):
            await resolver.resolve("localhost", 443)
    finally:
        await resolver.close()
    allowing = PublicResolver(allow_private=True)
    try:
        assert {r["host"] for r in await allowing.resolve("localhost", 443)} & {"127.0.0.1", "::1"}
    finally:
        await allowing.close()


def test_a_message_fits_the_4kb_record_whatever_the_text() -> None:
    reminder = uuid.uuid4()
    for text in ("Call the store manager at 10:00", "缺货" * 3000, "x" * 10_000):
        data = message(
            reminder_id=reminder,
            kind="reminder",
            text=text,
            due_at=utcnow(),
            urgent=False,
            store_id=None,
            locale="zh-CN",
        )
        assert len(data) <= MAX_PLAINTEXT
        decoded = msgspec.json.decode(data)
        assert decoded["url"] == f"/reminders/{reminder}" and decoded["tag"] == f"reminder-{reminder}"
        assert decoded["title"] == "提醒"
        assert text.startswith(decoded["body"].rstrip("…"))
    long = msgspec.json.decode(
        message(
            reminder_id=reminder,
            kind="alert",
            text="y" * 5000,
            due_at=utcnow(),
            urgent=True,
            store_id=None,
            locale="en",
        )
    )
    assert long["body"].endswith("…") and long["title"] == "Alert" and long["urgent"] is True
    assert len(topic(reminder)) <= 32 and set(topic(reminder)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
