from __future__ import annotations

import msgspec
from litestar import get

from backend.db import current_engine
from backend.errors import DomainError


class Health(msgspec.Struct):
    status: str
    database: str


class Unavailable(DomainError):
    status = 503
    code = "health.database_unavailable"
    title = "Service unavailable"


@get("/api/v1/health", tags=["system"], summary="Liveness and database reachability (no token needed)")
async def health() -> Health:
    engine = current_engine()
    try:
        await engine.run_ddl("SELECT 1")
    except Exception as exc:  # any driver error means the same to a load balancer: not ready
        raise Unavailable(f"Database unreachable: {type(exc).__name__}") from exc
    return Health(status="ok", database=engine.engine_type)
