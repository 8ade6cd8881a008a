"""Reading request bodies that are too large for Litestar's app-wide limit, against a limit of their own."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException


async def read_limited(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to exceed `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ClientException(status_code=413, detail="too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ClientException(status_code=413, detail="too large")
        chunks.append(chunk)
    return b"".join(chunks)
