"""A stand-in for a Web Push service in tests: a real HTTPS server on 127.0.0.1 that speaks the protocol.

It checks what a real push service checks, in the order they do: the body size (4096 bytes, RFC 8030 section 7.2),
the subscription, the VAPID authorization (RFC 8292: an ES256 JWT whose `aud` is the service's origin, `exp` at most
24 hours ahead, `sub` a mailto: or https: contact, signed by the key `k` and, when the subscription was restricted,
`k` being that key), the TTL, Urgency and Topic headers (RFC 8030 section 5), and then decrypts the message with
the subscription's private key (RFC 8291, aes128gcm). It records every request, and can be told what to answer next.

It runs in the caller's event loop, so the sender must be asynchronous, another thread, or another process.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import ipaddress
import json
import os
import re
import secrets
import shutil
import ssl
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import http_ece
from aiohttp import web
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from py_vapid import jwt as vapid_jwt

MAX_BODY = 4096  # what FCM and Mozilla's autopush accept; 3993 bytes of plaintext fill it (RFC 8291 section 4)
MAX_EXP_AHEAD_S = 24 * 3600  # RFC 8292 section 2
SENDER_GONE = 499  # recorded (never sent) for a held request whose sender hung up, as nginx logs it
URGENCIES = frozenset({"very-low", "low", "normal", "high"})  # RFC 8030 section 5.3
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 section 5.4: URL-safe base64 alphabet, at most 32
_DIGITS = re.compile(r"[0-9]+")  # RFC 8030 section 5.2: TTL = 1*DIGIT

# What the service answers to a valid request: a status, or (429 | 503, seconds for Retry-After).
Answer = int | tuple[int, int]


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class Subscription:
    """What a browser's PushManager.subscribe() makes, private key included so the service can decrypt."""

    endpoint: str
    p256dh: str  # base64url, the 65-byte uncompressed P-256 point
    auth: str  # base64url, 16 random bytes
    private_key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    def info(self) -> dict[str, Any]:
        """The PushSubscription JSON a browser hands to the application."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Received:
    """One request as the service saw it; fields it did not get to read are None, {} or b""."""

    endpoint: str
    status: int  # what it answered (SENDER_GONE: nothing, the sender hung up while held)
    ttl: int | None
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]  # the VAPID claims, once the signature checked out
    payload: bytes  # the decrypted message
    body_size: int
    at: float  # time.time() on arrival
    reason: str = ""  # why it was refused or scripted, e.g. "vapid.aud", "ttl.missing", "scripted"


@dataclass
class _Reading:
    ttl: int | None = None
    urgency: str | None = None
    topic: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    payload: bytes = b""


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def _make_pki(directory: str) -> tuple[str, str, str]:
    """A test CA and a leaf for 127.0.0.1 and localhost it signed: (ca.pem, leaf.pem, leaf.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fieldbook test push CA")])

    def builder(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca = (
        builder(ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), leaf_key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    paths = []
    for name, data in (
        ("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        ("leaf.pem", leaf.public_bytes(serialization.Encoding.PEM)),
        ("leaf.key", key_pem),
    ):
        paths.append(os.path.join(directory, name))
        with open(paths[-1], "wb") as file:
            file.write(data)
    return paths[0], paths[1], paths[2]


def _unpack(answer: Answer) -> tuple[int, int | None]:
    return answer if isinstance(answer, tuple) else (answer, None)


def _single(request: web.Request, name: str) -> str | None:
    values = request.headers.getall(name, [])
    if len(values) > 1:
        raise _Refused(400, f"{name.lower()}.repeated", f"{name} given {len(values)} times")
    return values[0] if values else None


class FakePushService:
    """Start with `async with FakePushService() as service:`; `service.subscribe()` makes a subscription whose
    `info()` the application stores; read `service.received` / `service.delivered()`.

    `script()` queues answers for an endpoint's next valid requests; `hold()` keeps requests waiting for their
    answer until `release()`. Trust `ca_file` to reach `origin` (https://127.0.0.1:<port>)."""

    def __init__(self, *, vapid_public_key: str | None = None) -> None:
        self.vapid_public_key = vapid_public_key
        self._expected_key = None if vapid_public_key is None else _b64u_decode(vapid_public_key)
        if self._expected_key is not None and (len(self._expected_key) != 65 or self._expected_key[0] != 4):
            raise ValueError("vapid_public_key is not a base64url 65-byte uncompressed P-256 point")
        self.received: list[Received] = []
        # POST /plain: bodies read and answered 201 with no checks at all (a baseline for bench/push_delivery.py).
        self.plain_requests = 0
        self.plain_bytes = 0
        self.ca_file = ""
        self._subscriptions: dict[str, Subscription] = {}
        self._gone: dict[str, int] = {}  # token -> 404 or 410, answered from now on
        self._scripts: dict[str, deque[Answer]] = {}
        self._open = asyncio.Event()
        self._open.set()
        self._changed = asyncio.Condition()
        self._held = 0
        self._messages = 0
        self._port = 0
        self._directory: str | None = None
        self._runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        if not self._port:
            raise RuntimeError("FakePushService is not started")
        return f"https://127.0.0.1:{self._port}"

    @property
    def held(self) -> int:
        """Requests waiting for their answer while the service is held."""
        return self._held

    async def start(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="fake-push-")
        self.ca_file, leaf, leaf_key = _make_pki(self._directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(leaf, leaf_key)
        app = web.Application()
        app.router.add_post("/push/{token}", self._push)
        app.router.add_post("/plain", self._plain)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def __aenter__(self) -> FakePushService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def subscribe(self) -> Subscription:
        """A new subscription on this service, from a fresh P-256 key pair and 16-byte auth secret."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        subscription = Subscription(
            endpoint=f"{self.origin}/push/{secrets.token_urlsafe(16)}",
            p256dh=_b64u(_point(private_key.public_key())),
            auth=_b64u(os.urandom(16)),
            private_key=private_key,
        )
        self._subscriptions[subscription.token] = subscription
        return subscription

    def unsubscribe(self, target: Subscription | str) -> None:
        """The browser dropped the subscription: the service answers 410 from now on."""
        self._gone[self._token(target)] = 410

    def script(self, target: Subscription | str, *answers: Answer) -> None:
        """Answer the endpoint's next valid requests with these, in order; 201 again afterwards.

        A 404 or 410 means the subscription is gone: every later request gets the same answer."""
        for answer in answers:
            status, retry_after = _unpack(answer)
            if not 200 <= status <= 599 or (retry_after is not None and (status not in (429, 503) or retry_after < 0)):
                raise ValueError(f"not an answer: {answer!r}")
        self._scripts.setdefault(self._token(target), deque()).extend(answers)

    def delivered(self, endpoint: Subscription | str | None = None) -> list[Received]:
        """The requests answered 201, to one endpoint or to all."""
        if isinstance(endpoint, Subscription):
            endpoint = endpoint.endpoint
        return [r for r in self.received if r.status == 201 and endpoint in (None, r.endpoint)]

    def hold(self) -> None:
        """Requests arriving from now on wait for their answer until release() (or their sender hangs up)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def wait_held(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until exactly `count` requests are held (0: every held sender has been answered or hung up)."""
        await self._until(lambda: self._held == count, timeout)

    async def wait_received(self, count: int, timeout: float = 5.0) -> None:
        """Until at least `count` requests have been answered (or their sender hung up)."""
        await self._until(lambda: len(self.received) >= count, timeout)

    async def _until(self, ready: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(ready)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _token(self, target: Subscription | str) -> str:
        token = target.token if isinstance(target, Subscription) else target.rsplit("/", 1)[-1]
        if token not in self._subscriptions:
            raise KeyError(f"no subscription {target!r} on this service")
        return token

    async def _push(self, request: web.Request) -> web.StreamResponse:
        body, at = await request.read(), time.time()
        token = request.match_info["token"]
        reading = _Reading()
        if not self._open.is_set() and not await self._wait_open(request):
            return await self._record(token, SENDER_GONE, "sender.gone", reading, len(body), at, web.Response())
        try:
            self._check(request, token, body, reading)
        except _Refused as refused:
            answer = self._json(refused.status, refused.message)
            return await self._record(token, refused.status, refused.reason, reading, len(body), at, answer)
        queue = self._scripts.get(token)
        scripted = queue.popleft() if queue else None
        status, retry_after = (201, None) if scripted is None else _unpack(scripted)
        if status in (404, 410):
            self._gone[token] = status  # a real service forgets the subscription
        if status == 201:
            self._messages += 1
            headers = {"Location": f"{self.origin}/m/{self._messages}", "TTL": str(reading.ttl)}
            answer = web.Response(status=201, headers=headers)
        else:
            answer = self._json(status, "scripted answer")
            if retry_after is not None:
                answer.headers["Retry-After"] = str(retry_after)
        reason = "" if scripted is None else "scripted"
        return await self._record(token, status, reason, reading, len(body), at, answer)

    async def _wait_open(self, request: web.Request) -> bool:
        """Wait for release(); False when the sender hung up first (a killed sender leaves no one to answer)."""
        self._held += 1
        await self._notify()
        try:
            while request.transport is not None and not request.transport.is_closing():
                try:
                    await asyncio.wait_for(self._open.wait(), 0.05)
                    return True
                except TimeoutError:
                    pass
            return False
        finally:
            self._held -= 1
            await self._notify()

    async def _plain(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.plain_requests += 1
        self.plain_bytes += len(body)
        return web.Response(status=201)

    def _check(self, request: web.Request, token: str, body: bytes, reading: _Reading) -> None:
        """Read a request into `reading`, or raise _Refused as a push service would."""
        if len(body) > MAX_BODY:
            raise _Refused(413, "payload.too_large", f"body of {len(body)} bytes over {MAX_BODY}")
        subscription = self._subscriptions.get(token)
        if subscription is None:
            raise _Refused(404, "subscription.unknown", "no such subscription")
        if token in self._gone:
            raise _Refused(self._gone[token], "subscription.gone", "subscription expired or unsubscribed")
        reading.claims = self._check_vapid(request)
        ttl = _single(request, "TTL")
        if ttl is None:
            raise _Refused(400, "ttl.missing", "TTL header missing")
        if not _DIGITS.fullmatch(ttl):
            raise _Refused(400, "ttl.invalid", f"TTL {ttl!r} is not a number of seconds")
        reading.ttl = int(ttl)
        reading.urgency = _single(request, "Urgency")
        if reading.urgency is not None and reading.urgency not in URGENCIES:
            raise _Refused(400, "urgency.invalid", f"Urgency {reading.urgency!r} not one of {sorted(URGENCIES)}")
        reading.topic = _single(request, "Topic")
        if reading.topic is not None and not _TOPIC.fullmatch(reading.topic):
            raise _Refused(400, "topic.invalid", "Topic must be 1-32 characters of the URL-safe base64 alphabet")
        if body:  # a push message may carry no payload at all (RFC 8030 section 5)
            encoding = _single(request, "Content-Encoding")
            if (encoding or "").lower() != "aes128gcm":
                raise _Refused(400, "encoding.unsupported", f"Content-Encoding {encoding!r} is not aes128gcm")
            try:
                reading.payload = http_ece.decrypt(
                    body,
                    private_key=subscription.private_key,
                    auth_secret=_b64u_decode(subscription.auth),
                    version="aes128gcm",
                )
            except Exception as error:  # http_ece raises ECEException, InvalidTag, ValueError, struct.error...
                raise _Refused(400, "encryption.invalid", f"cannot decrypt: {error!r}") from error

    def _check_vapid(self, request: web.Request) -> dict[str, Any]:
        """The verified claims of the `Authorization: vapid t=<jwt>, k=<key>` header (RFC 8292 section 3)."""
        header = _single(request, "Authorization")
        if header is None:
            raise _Refused(401, "vapid.missing", "Authorization header missing")
        scheme, _, rest = header.partition(" ")
        params = {}
        for part in rest.split(","):
            name, equals, value = part.strip().partition("=")
            if equals:
                params[name.strip().lower()] = value.strip()
        if scheme.lower() != "vapid" or not params.get("t") or not params.get("k"):
            raise _Refused(401, "vapid.malformed", "expected Authorization: vapid t=<JWT>, k=<public key>")
        token, key = params["t"], params["k"]
        try:
            raw_key = _b64u_decode(key)
        except (binascii.Error, ValueError):
            raw_key = b""
        if len(raw_key) != 65 or raw_key[0] != 4:
            raise _Refused(403, "vapid.key", "k is not a base64url 65-byte uncompressed P-256 point")
        if self._expected_key is not None and raw_key != self._expected_key:
            raise _Refused(403, "vapid.key_mismatch", "k is not the applicationServerKey of the subscription")
        try:
            claims = vapid_jwt.decode(token, key)
            header_fields = json.loads(_b64u_decode(token.split(".")[0]))
        except (InvalidSignature, ValueError, binascii.Error) as error:
            raise _Refused(403, "vapid.signature", "the JWT is not signed by k") from error
        if not isinstance(claims, dict) or not isinstance(header_fields, dict) or header_fields.get("alg") != "ES256":
            raise _Refused(403, "vapid.jwt", "the JWT must be ES256 with a JSON object of claims")
        aud, exp, sub, now = claims.get("aud"), claims.get("exp"), claims.get("sub"), time.time()
        # The origin the request was sent to, whichever of the certificate's names it used.
        if aud != f"https://{request.host}" or aud not in (self.origin, f"https://localhost:{self._port}"):
            raise _Refused(403, "vapid.aud", f"aud {aud!r} is not this service's origin {self.origin}")
        if isinstance(exp, bool) or not isinstance(exp, int | float) or not now < exp <= now + MAX_EXP_AHEAD_S:
            raise _Refused(403, "vapid.exp", f"exp {exp!r} is not in the next 24 hours")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise _Refused(403, "vapid.sub", f"sub {sub!r} is not a mailto: or https: contact")
        return claims

    def _json(self, status: int, message: str) -> web.Response:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:  # a scripted status with no standard name
            phrase = ""
        return web.json_response({"code": status, "error": phrase, "message": message}, status=status)

    async def _record(
        self, token: str, status: int, reason: str, reading: _Reading, size: int, at: float, answer: web.Response
    ) -> web.Response:
        endpoint = f"{self.origin}/push/{token}"
        fields = (reading.ttl, reading.urgency, reading.topic, reading.claims, reading.payload)
        self.received.append(Received(endpoint, status, *fields, body_size=size, at=at, reason=reason))
        await self._notify()
        return answer
