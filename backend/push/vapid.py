"""The server's VAPID identity (RFC 8292): a P-256 key pair, generated once into the data directory unless
configured, its public key for the browsers (`applicationServerKey`), and the contact subject."""

from __future__ import annotations

import base64
import logging
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

from backend.settings import PREFIX, Settings, SettingsError

log = logging.getLogger("fieldbook.push")
KEY_FILE = "vapid_private.pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@lru_cache(maxsize=8)
def _load(configured: str, data_dir: str) -> Vapid02:
    if configured:
        try:
            if Path(configured).is_file():
                return Vapid02.from_file(private_key_file=configured)
            return Vapid02.from_string(configured)
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"{PREFIX}VAPID_PRIVATE_KEY: not a P-256 key (PEM file or base64url): {exc}") from None
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Vapid02()
        key.generate_keys()
        # O_EXCL: two processes starting at once must not each write their own key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key.private_pem())
            log.info("generated the VAPID key pair into %s", path)
    return Vapid02.from_file(private_key_file=str(path))


def vapid_key(settings: Settings) -> Vapid02:
    """The server's VAPID key (parsed once per configuration)."""
    return _load(settings.vapid_private_key, settings.data_dir)


def application_server_key(settings: Settings) -> str:
    """The public key as browsers take it in `pushManager.subscribe`: the uncompressed P-256 point, base64url."""
    public = vapid_key(settings).public_key
    assert public is not None
    return _b64url(public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def subject(settings: Settings) -> str:
    """The `sub` claim: the configured contact, else a mailto: on the first public host name we serve."""
    if settings.vapid_subject:
        return settings.vapid_subject
    public = [h for h in settings.allowed_hosts if "." in h and not h.replace(".", "").isdigit() and h != "*"]
    host = public[0].lstrip("*.") if public else "fieldbook.invalid"
    return f"mailto:push@{urlsplit('//' + host).hostname or host}"
