"""All configuration, from `FIELDBOOK_*` environment variables with safe defaults (docs/operations.md)."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import msgspec

PREFIX = "FIELDBOOK_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    data_dir: str = "./var"
    # Empty means "a SQLite file in the data dir"; see database_url_resolved().
    database_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: Port = 8000
    workers: Positive = 1
    # Run the background worker inside the app process (`fieldbook serve` sets this unless --no-worker).
    in_process_worker: bool = False
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    cors_origins: list[str] = []
    allowed_hosts: list[str] = msgspec.field(default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"])
    # Proxies whose X-Forwarded-For we believe; requests from anyone else are keyed by their socket address.
    trusted_proxies: list[str] = []
    max_body_bytes: Positive = 1_000_000
    max_import_bytes: Positive = 10_000_000
    max_sync_bytes: Positive = 10_000_000
    sync_max_changes: Positive = 5_000
    sync_page_size: Positive = 5_000
    # A change stamped further ahead of the server's clock is refused with sync.clock_skew.
    sync_max_skew_seconds: Positive = 300
    # Deleted rows are kept this long for offline devices to learn of the deletion; older cursors must refetch.
    sync_tombstone_days: Positive = 90
    token_ttl_minutes: Positive = 720
    login_window_minutes: Positive = 15
    login_max_failures_per_account: Positive = 5
    login_max_failures_per_ip: Positive = 50
    # Serve the built PWA from here when the folder exists.
    pwa_dist: str = "pwa/dist"
    # Photo blobs (backend/photos): empty means "<data_dir>/photos"; see photo_dir_resolved().
    photo_dir: str = ""
    max_photo_bytes: Positive = 10 * 1024 * 1024
    # Decompression-bomb guard: a photo whose header declares more pixels is refused before it is decoded.
    max_photo_pixels: Positive = 50_000_000
    # Road travel times for the route planner from an OSRM server's table service, e.g. "http://osrm:5000".
    # Empty: straight-line estimates only, and no network (backend/planning/matrix.py).
    osrm_url: Annotated[str, msgspec.Meta(pattern=r"^(https?://\S+)?$")] = ""
    # How long the planner waits for the whole matrix from OSRM before it uses the estimate instead.
    osrm_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0

    # Web Push (backend/push, docs/push.md). The VAPID key: a PEM file path or the raw key in base64url; empty
    # means "generated once into <data_dir>/vapid_private.pem".
    vapid_private_key: str = ""
    # Who push services contact about this server's messages (RFC 8292): a mailto: or https: URL.
    vapid_subject: Annotated[str, msgspec.Meta(pattern=r"^((mailto:[^@\s]+@[^@\s]+)|(https://\S+))?$")] = ""
    # Push services besides the major browsers' (fcm.googleapis.com, *.push.services.mozilla.com,
    # *.notify.windows.com, *.push.apple.com): host or host:port, "*." for subdomains.
    push_extra_hosts: list[str] = []
    # Allow push endpoints that resolve to loopback, private or link-local addresses (a push relay on the
    # company network; the tests' fake service). Off: such endpoints are refused, whatever the host list says.
    push_allow_private: bool = False
    # An extra CA certificate file to trust for push services (tests; a relay with a private CA).
    push_ca_file: str = ""
    # How long a push service keeps a message for a phone that is offline (RFC 8030 TTL), seconds.
    push_ttl_s: Annotated[int, msgspec.Meta(ge=0, le=2_419_200)] = 86_400
    push_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    # Sends to one device in flight at once, per worker process.
    push_concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] = 32
    # A delivery answered 429/5xx (or unreachable) is retried with backoff this many times, then given up.
    push_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 8

    def database_url_resolved(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'fieldbook.sqlite3'}"

    def photo_dir_resolved(self) -> Path:
        return Path(self.photo_dir) if self.photo_dir else Path(self.data_dir) / "photos"


_LIST_FIELDS = {"cors_origins", "allowed_hosts", "trusted_proxies", "push_extra_hosts"}


def settings_from_env(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from the environment (or `environ`), then apply `overrides` (used by tests and the CLI)."""
    environ = dict(os.environ) if environ is None else environ
    raw: dict[str, object] = {}
    fields = set(Settings.__struct_fields__)
    for key, value in environ.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in fields:
            continue  # other FIELDBOOK_* variables (e.g. the test database URL) belong to other tools
        raw[name] = [v.strip() for v in value.split(",") if v.strip()] if name in _LIST_FIELDS else value
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says "... - at `$.port`": name the environment variable instead.
        message = str(exc)
        if " - at `$." in message:
            text, _, where = message.partition(" - at `$.")
            message = f"{PREFIX}{where.rstrip('`').split('[')[0].upper()}: {text}"
        raise SettingsError(message) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()


def load_secret_key(settings: Settings) -> str:
    """The configured secret key, or one generated once into the data dir (readable only by its owner)."""
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY: must be at least 32 characters")
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write their own key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
