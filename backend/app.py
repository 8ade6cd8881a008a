"""The Litestar application: `create_app(settings)` wires controllers, auth, errors, limits and the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from backend import db, worker
from backend.auth.controllers import AuthController
from backend.auth.tokens import TokenIssuer, build_jwt_auth
from backend.catalog.controllers import AssortmentController, ProductController
from backend.deps import dependencies
from backend.errors import exception_handlers
from backend.health import health
from backend.hosts import AllowedHostsMiddleware
from backend.inspections.controllers import InspectionController, InspectionRulesController
from backend.inspections.report_controllers import InspectionReportController
from backend.orgs.controllers import UserController
from backend.photos.controllers import PhotoController
from backend.planning.controllers import PlanningController
from backend.push.controllers import PushController, ReminderController
from backend.pwa import pwa_router
from backend.settings import Settings, get_settings, load_secret_key
from backend.stores.controllers import StoreController, TerritoryController
from backend.sync_api.controllers import SyncController
from backend.visits.controllers import ReportController, TeamController, VisitRulesController

CONTROLLERS = [
    AuthController,
    UserController,
    TerritoryController,
    StoreController,
    ProductController,
    AssortmentController,
    SyncController,
    PhotoController,
    VisitRulesController,
    TeamController,
    ReportController,
    InspectionController,
    InspectionRulesController,
    InspectionReportController,
    PlanningController,
    PushController,
    ReminderController,
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    jwt_auth = build_jwt_auth(settings, load_secret_key(settings))
    engine = db.use_engine(db.build_engine(settings.database_url_resolved()))

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        db.use_engine(engine)
        await db.start(engine)
        stop = asyncio.Event()
        worker_task = (
            asyncio.create_task(worker.run_forever(settings, stop), name="fieldbook-worker")
            if settings.in_process_worker
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await db.stop(engine)

    handlers: list[object] = [*CONTROLLERS, health]
    dist = Path(settings.pwa_dist)
    if (dist / "index.html").is_file():
        handlers.append(pwa_router(dist))

    return Litestar(
        route_handlers=handlers,  # type: ignore[arg-type]
        dependencies=dependencies(settings, TokenIssuer(jwt_auth, settings.token_ttl_minutes)),
        exception_handlers=exception_handlers,
        on_app_init=[jwt_auth.on_app_init],
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        middleware=[DefineMiddleware(AllowedHostsMiddleware, allowed=settings.allowed_hosts)],
        cors_config=CORSConfig(allow_origins=settings.cors_origins, allow_credentials=False)
        if settings.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="Fieldbook API",
            version="1",
            description="Offline-first field sales. Errors are application/problem+json with a stable `code`.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            log_exceptions="debug",
        ),
        debug=False,
    )


logging.getLogger("piccolo").setLevel(logging.WARNING)
