"""The fake push service speaks Web Push as real services do: what pywebpush sends is accepted and decrypted, what a
real service refuses it refuses, and it answers what a test scripts."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from py_vapid import jwt as vapid_jwt
from py_vapid.utils import b64urlencode
from pywebpush import WebPusher, WebPushException, webpush_async

from tests.fake_push import FakePushService, Subscription

CONTACT = "mailto:ops@fieldbook.example"


def application_server_key(vapid: Vapid02) -> str:
    return b64urlencode(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def session_trusting(ca_file: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=ca_file)))


async def send_with_pywebpush(
    sub: Subscription, payload: bytes, vapid: Vapid02, ca_file: str, **headers: str
) -> aiohttp.ClientResponse:
    """Send as the backend does, and return the push service's answer (pywebpush raises on anything over 202)."""
    headers.setdefault("TTL", "60")
    async with session_trusting(ca_file) as session:
        try:
            return await webpush_async(
                sub.info(),
                data=payload,  # documented as str; bytes are sent as they are
                vapid_private_key=vapid,
                vapid_claims={"sub": CONTACT},  # fresh each time: pywebpush writes aud and exp into it
                headers=dict(headers),
                timeout=5.0,
                aiohttp_session=session,
            )
        except WebPushException as error:
            assert error.response is not None
            return error.response


def vapid_header(vapid: Vapid02, **claims: Any) -> str:
    """An Authorization header signed with any claims, even ones py_vapid would refuse to sign."""
    token = vapid_jwt.sign({"sub": CONTACT, "exp": int(time.time()) + 3600, **claims}, vapid.private_key)
    return f"vapid t={token},k={application_server_key(vapid)}"


def tampered(header: str) -> str:
    """The header with one character of its JWT signature changed."""
    signed, key = header.split(",k=")
    head, signature = signed.rsplit(".", 1)
    signature = signature[:10] + ("B" if signature[10] == "A" else "A") + signature[11:]
    return f"{head}.{signature},k={key}"


async def post_raw(service: FakePushService, sub: Subscription, vapid: Vapid02, changes: dict[str, str | None]) -> int:
    """POST an encrypted message with hand-made headers; a None in `changes` leaves that header out."""
    headers: dict[str, str | None] = {
        "TTL": "60",
        "Content-Encoding": "aes128gcm",
        "Authorization": vapid_header(vapid, aud=service.origin),
        **changes,
    }
    body = WebPusher(sub.info()).encode(b"hello", "aes128gcm")["body"]
    async with session_trusting(service.ca_file) as session:
        sent = {name: value for name, value in headers.items() if value is not None}
        async with session.post(sub.endpoint, data=body, headers=sent) as response:
            return response.status


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    key = Vapid02()
    key.generate_keys()
    return key


@pytest.fixture
async def service(vapid: Vapid02) -> AsyncIterator[FakePushService]:
    async with FakePushService(vapid_public_key=application_server_key(vapid)) as service:
        yield service


async def test_a_pywebpush_send_is_decrypted_and_recorded_with_its_headers(service, vapid):
    sub = service.subscribe()
    message = json.dumps({"title": "Restock", "body": "Aisle 4 ✓"}).encode()

    response = await send_with_pywebpush(sub, message, vapid, service.ca_file, TTL="600", Urgency="high", Topic="v-42")

    assert response.status == 201
    assert response.headers["Location"].startswith(f"{service.origin}/m/")
    assert response.headers["TTL"] == "600"
    [received] = service.delivered(sub.endpoint)
    assert received.payload == message
    assert (received.ttl, received.urgency, received.topic) == (600, "high", "v-42")
    assert received.claims["sub"] == CONTACT
    assert received.claims["aud"] == service.origin
    assert received.body_size == 86 + len(message) + 1 + 16  # RFC 8291: header, message, delimiter, tag
    assert sub.info() == {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}


async def test_urgency_and_topic_are_optional(service, vapid):
    sub = service.subscribe()
    assert (await send_with_pywebpush(sub, b"x", vapid, service.ca_file, TTL="0")).status == 201
    assert (service.received[-1].ttl, service.received[-1].urgency, service.received[-1].topic) == (0, None, None)


Changes = Callable[[Vapid02, str], dict[str, str | None]]
REFUSALS: list[tuple[str, Changes, int, str]] = [
    ("no authorization", lambda v, origin: {"Authorization": None}, 401, "vapid.missing"),
    ("old draft scheme", lambda v, origin: {"Authorization": "WebPush abc.def.ghi"}, 401, "vapid.malformed"),
    (
        "bad signature",
        lambda v, origin: {"Authorization": tampered(vapid_header(v, aud=origin))},
        403,
        "vapid.signature",
    ),
    ("wrong aud", lambda v, origin: {"Authorization": vapid_header(v, aud="https://push.example")}, 403, "vapid.aud"),
    (
        "expired",
        lambda v, origin: {"Authorization": vapid_header(v, aud=origin, exp=int(time.time()) - 1)},
        403,
        "vapid.exp",
    ),
    (
        "exp over 24 hours ahead",
        lambda v, origin: {"Authorization": vapid_header(v, aud=origin, exp=int(time.time()) + 90_000)},
        403,
        "vapid.exp",
    ),
    (
        "sub not a contact",
        lambda v, origin: {"Authorization": vapid_header(v, aud=origin, sub="ops@fieldbook.example")},
        403,
        "vapid.sub",
    ),
    ("no TTL", lambda v, origin: {"TTL": None}, 400, "ttl.missing"),
    ("negative TTL", lambda v, origin: {"TTL": "-1"}, 400, "ttl.invalid"),
    ("TTL in words", lambda v, origin: {"TTL": "soon"}, 400, "ttl.invalid"),
    ("unknown urgency", lambda v, origin: {"Urgency": "urgent"}, 400, "urgency.invalid"),
    ("topic of 33 characters", lambda v, origin: {"Topic": "a" * 33}, 400, "topic.invalid"),
    ("topic outside base64url", lambda v, origin: {"Topic": "visit.42"}, 400, "topic.invalid"),
    ("legacy aesgcm encoding", lambda v, origin: {"Content-Encoding": "aesgcm"}, 400, "encoding.unsupported"),
]


@pytest.mark.parametrize(("changes", "status", "reason"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
async def test_what_a_real_service_refuses_is_refused(service, vapid, changes, status, reason):
    sub = service.subscribe()
    assert await post_raw(service, sub, vapid, {}) == 201  # the same request, unchanged, is fine

    assert await post_raw(service, sub, vapid, changes(vapid, service.origin)) == status

    assert (service.received[-1].status, service.received[-1].reason) == (status, reason)
    assert len(service.delivered(sub)) == 1


async def test_a_subscription_restricted_to_one_key_refuses_another(service, vapid):
    other = Vapid02()
    other.generate_keys()
    sub = service.subscribe()
    assert (await send_with_pywebpush(sub, b"x", other, service.ca_file)).status == 403
    assert service.received[-1].reason == "vapid.key_mismatch"
    async with FakePushService() as unrestricted:
        sub = unrestricted.subscribe()
        assert (await send_with_pywebpush(sub, b"x", other, unrestricted.ca_file)).status == 201


async def test_3993_bytes_of_plaintext_fit_and_3994_get_413(service, vapid):
    sub = service.subscribe()
    assert (await send_with_pywebpush(sub, b"a" * 3993, vapid, service.ca_file)).status == 201
    assert service.received[-1].body_size == 4096
    assert (await send_with_pywebpush(sub, b"a" * 3994, vapid, service.ca_file)).status == 413
    assert service.received[-1].reason == "payload.too_large"


async def test_an_unknown_endpoint_gets_404(service, vapid):
    sub = service.subscribe()
    stranger = Subscription(f"{service.origin}/push/nobody", sub.p256dh, sub.auth, sub.private_key)
    assert (await send_with_pywebpush(stranger, b"x", vapid, service.ca_file)).status == 404


async def test_scripted_answers_come_in_order_then_201_again(service, vapid):
    sub = service.subscribe()
    service.script(sub, (429, 2), 500, 201)

    answers = [await send_with_pywebpush(sub, b"%d" % n, vapid, service.ca_file) for n in range(4)]

    assert [a.status for a in answers] == [429, 500, 201, 201]
    assert answers[0].headers["Retry-After"] == "2"
    assert "Retry-After" not in answers[1].headers
    assert [r.payload for r in service.received] == [b"0", b"1", b"2", b"3"]  # each one was read and decrypted
    assert [r.payload for r in service.delivered(sub)] == [b"2", b"3"]


async def test_a_410_is_for_good(service, vapid):
    sub, dropped = service.subscribe(), service.subscribe()
    service.script(sub, 410, 201)
    service.unsubscribe(dropped)

    assert [(await send_with_pywebpush(sub, b"x", vapid, service.ca_file)).status for _ in range(3)] == [410] * 3
    assert (await send_with_pywebpush(dropped, b"x", vapid, service.ca_file)).status == 410
    assert service.delivered() == []


async def test_a_held_request_is_answered_on_release(service, vapid):
    sub = service.subscribe()
    service.hold()
    sending = asyncio.create_task(send_with_pywebpush(sub, b"later", vapid, service.ca_file))

    await service.wait_held(1)
    assert not sending.done()
    assert service.received == []
    service.release()

    assert (await sending).status == 201
    assert service.held == 0
    assert [r.payload for r in service.delivered(sub)] == [b"later"]


async def test_a_held_request_whose_sender_hangs_up_is_not_delivered(service, vapid):
    sub = service.subscribe()
    service.hold()
    sending = asyncio.create_task(send_with_pywebpush(sub, b"lost", vapid, service.ca_file))
    await service.wait_held(1)

    sending.cancel()  # as a killed worker would, the sender goes away without its answer
    await service.wait_received(1)
    service.release()

    assert (service.received[0].status, service.received[0].reason) == (499, "sender.gone")
    assert service.held == 0
    assert service.delivered() == []


async def test_two_subscriptions_are_independent(service, vapid):
    first, second = service.subscribe(), service.subscribe()
    service.script(first, 500)

    assert (await send_with_pywebpush(second, b"to second", vapid, service.ca_file)).status == 201
    assert (await send_with_pywebpush(first, b"to first", vapid, service.ca_file)).status == 500
    crossed = Subscription(first.endpoint, second.p256dh, second.auth, second.private_key)
    assert (await send_with_pywebpush(crossed, b"wrong keys", vapid, service.ca_file)).status == 400

    assert service.received[-1].reason == "encryption.invalid"
    assert [r.payload for r in service.delivered(second)] == [b"to second"]
    assert service.delivered(first) == []


SENDER = """
import asyncio, json, ssl, sys
import aiohttp
from py_vapid import Vapid02
from pywebpush import webpush_async

async def main():
    info, ca_file, pem = json.loads(sys.argv[1]), sys.argv[2], sys.stdin.buffer.read()
    context = ssl.create_default_context(cafile=ca_file)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        response = await webpush_async(info, data="from afar", vapid_private_key=Vapid02.from_pem(pem),
            vapid_claims={"sub": "mailto:ops@fieldbook.example"}, ttl=5, timeout=5.0, aiohttp_session=session)
        print(response.status)

asyncio.run(main())
"""


async def test_a_sender_in_another_process_is_served(service, vapid):
    sub = service.subscribe()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SENDER,
        json.dumps(sub.info()),
        service.ca_file,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(vapid.private_pem()), 20)

    assert out.decode().strip() == "201"
    assert [r.payload for r in service.delivered(sub)] == [b"from afar"]
