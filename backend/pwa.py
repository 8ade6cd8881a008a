"""Serves the built PWA (pwa/dist) with the cache headers an offline app needs.

- `/assets/*` are content-hashed by Vite: cached for a year, immutable.
- `/sw.js`, `/index.html` and `/manifest.webmanifest` are revalidated on every load (`no-cache`), so a new
  version is found at once; the service worker then tells the user to reload.
- Every other path that is not the API's answers with index.html: the app routes `/stores/<id>` or
  `/reminders/<id>` itself (a link from a notification opens there). Unknown API paths stay 404 problem JSON.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Router, get
from litestar.params import FromPath
from litestar.response import File

from backend.errors import NotFound

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
ONE_DAY = "public, max-age=86400"
API_PREFIXES = ("api/", "api", "schema")

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


def _cache_control(relative: str) -> str:
    if relative.startswith("assets/"):
        return IMMUTABLE
    if relative.startswith("icons/"):
        return ONE_DAY
    return NO_CACHE


def pwa_router(dist: Path) -> Router:
    root = dist.resolve()

    def answer(relative: str) -> File:
        target = (root / relative).resolve()
        if root not in target.parents or not target.is_file():
            target = root / "index.html"
            relative = "index.html"
        headers = {"Cache-Control": _cache_control(relative), "X-Content-Type-Options": "nosniff"}
        if relative == "sw.js":
            headers["Service-Worker-Allowed"] = "/"
        media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return File(
            path=target,
            media_type=media_type,
            headers=headers,
            content_disposition_type="inline",
            filename=target.name,
            etag=None,
        )

    @get("/", include_in_schema=False, opt={"exclude_from_auth": True}, name="pwa-index")
    async def index() -> File:
        return answer("index.html")

    @get("/{path:path}", include_in_schema=False, opt={"exclude_from_auth": True}, name="pwa-file")
    async def file(path: FromPath[str]) -> File:
        relative = path.lstrip("/")
        if relative.startswith(API_PREFIXES):
            raise NotFound(f"No such endpoint: /{relative}")
        if relative.startswith("assets/") and not (root / relative).is_file():
            # An old page asking for a file of an older build: a 404, never index.html served as JavaScript.
            raise NotFound(f"No such file: /{relative}")
        return answer(relative)

    return Router(path="/", route_handlers=[index, file])
