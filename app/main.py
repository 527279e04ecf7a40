"""The application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from app import faults, internals
from app.config import Settings, get_settings
from app.data import idempotency as idempotency_service
from app.db import create_engine, create_sessionmaker
from app.errors import FieldError, Problem, install_error_handlers
from app.middleware import RequestContextMiddleware
from app.pagination import CursorCodec
from app.ratelimit import RateLimiter
from app.revocations import Revocations
from app.routers import (
    audit,
    auth,
    broadcasts,
    cameras,
    certification_criteria,
    certifications,
    changes,
    clients,
    competitions,
    drills,
    exemplary_models,
    fire_equipment,
    fire_teams,
    footage_requests,
    group_members,
    groups,
    health,
    neighbourhoods,
    open311,
    report_updates,
    reports,
    residential_groups,
    units,
    users,
)
from app.services.auth import TokenService
from app.services.reports import filing as filing_service
from app.services.reports import statistics as statistics_service
from app.sessions import Reads, connection_slots
from app.tokens import TokenSigner

API_DESCRIPTION = """\
REST backend for grassroots self-management of security and public order in
Vietnamese wards. Errors are RFC 9457 `application/problem+json`; lists page
with `limit` and an opaque `cursor`.
"""


class WardsafeAPI(FastAPI):
    """FastAPI without the two layers of its own that every request passes through
    for nothing here.

    FastAPI 0.165 wraps the app in ``ExceptionTelemetryMiddleware`` (reports an
    exception to its native OpenTelemetry, off unless WARDSAFE_OTEL) and
    ``AppBodyLimitMiddleware`` (FastAPI's own body limit; ours is in the
    request middleware), a coroutine frame each around every request. With
    every kind of telemetry off the first only ever re-raises (FastAPI never
    puts its request telemetry in the scope), and with no ``max_body_size``
    the second only passes the request on (it acts on a limit a parent app
    puts in the scope; wardsafe is served by uvicorn, mounted under nothing).
    Then they are unwrapped from the stack FastAPI builds, which is otherwise
    kept as it is: copying FastAPI's method would miss what a later version
    adds to it."""

    def __init__(self, *, telemetry: TelemetryConfig, **kwargs: Any) -> None:
        super().__init__(telemetry=telemetry, **kwargs)
        # An omitted kind is on (FastAPI's default).
        self._telemetry_off = not any(telemetry.get(kind, True) for kind in _TELEMETRY_KINDS)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        idle: tuple[type, ...] = ()
        if self._telemetry_off:
            idle += (internals.IDLE_WHEN_TELEMETRY_OFF,)
        if self.max_body_size is None:
            idle += (internals.IDLE_WITHOUT_BODY_LIMIT,)
        layer = stack
        while layer is not self.router and (inner := getattr(layer, "app", None)) is not None:
            if isinstance(inner, idle):
                layer.app = inner.app  # type: ignore[attr-defined]
            else:
                layer = inner
        return stack


_TELEMETRY_KINDS: tuple[Literal["tracing", "metrics", "logs"], ...] = ("tracing", "metrics", "logs")


def _docs_pages(app: FastAPI) -> frozenset[str]:
    """The paths of the HTML pages FastAPI serves (the docs' browser views), if any."""
    pages = {app.docs_url, app.redoc_url}
    if app.docs_url and app.swagger_ui_oauth2_redirect_url:
        pages.add(app.swagger_ui_oauth2_redirect_url)
    return frozenset(page for page in pages if page)


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> FastAPI:
    """Build the app: routers, middleware, error handlers, database engine."""
    settings = settings or get_settings()
    own_engine = engine is None
    engine = engine or create_engine(settings)

    reads = Reads.of(engine, settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What is alive once the app is built (modules, schemas, routes, about
        # 190,000 objects) lives as long as the process: the garbage collector
        # no longer walks it at each collection of the oldest generation.
        gc.collect()
        gc.freeze()
        yield
        await _app.state.rate_limiter.close()
        if reads is not None:
            await reads.driver.close()
        if own_engine:
            await engine.dispose()

    app = WardsafeAPI(
        title="wardsafe",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # Off: FastAPI serves none of the three (a 404, as any unknown path).
        docs_url="/docs" if settings.docs_public else None,
        redoc_url="/redoc" if settings.docs_public else None,
        openapi_url="/openapi.json" if settings.docs_public else None,
        telemetry={"tracing": settings.otel, "metrics": settings.otel, "logs": settings.otel},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.connection_slots = connection_slots(engine)
    app.state.reads = reads
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.cursor_codec = CursorCodec(settings.secret_key)
    app.state.response_cipher = idempotency_service.response_cipher(settings.secret_key)
    app.state.token_signer = TokenSigner(settings)
    app.state.revocations = Revocations(
        settings.access_token_ttl_seconds, settings.token_revocation_seconds
    )
    app.state.rate_limiter = RateLimiter(
        settings.redis_url, secret=settings.secret_key, key_prefix=settings.redis_key_prefix
    )
    app.state.anonymous_limits = filing_service.AnonymousLimits.of(settings)
    app.state.token_service = TokenService(settings, app.state.token_signer, app.state.rate_limiter)
    app.state.statistics_cache = statistics_service.StatisticsCache(
        settings.statistics_cache_seconds, maxsize=statistics_service.CACHE_MAXSIZE
    )

    install_error_handlers(app)
    # The routers phones poll most come first: matching walks the routers in
    # order (each turns away paths outside its prefix at once, app/routing.py).
    for router in (
        reports.router,
        report_updates.router,
        cameras.router,
        open311.router,
        health.router,
        auth.router,
        users.router,
        clients.router,
        audit.router,
        units.router,
        footage_requests.router,
        fire_teams.router,
        fire_equipment.router,
        drills.router,
        competitions.router,
        neighbourhoods.router,
        residential_groups.router,
        groups.router,
        group_members.router,
        exemplary_models.router,
        certification_criteria.router,
        certifications.router,
        broadcasts.router,
        changes.router,
    ):
        app.include_router(router)
    if settings.metrics_served:
        app.include_router(health.metrics_router)

    # One middleware of ours: the request context wraps everything, so even a
    # 413 or a CORS answer carries a request id and is counted.
    cors = None
    if settings.cors_origins:
        cors = {
            "allow_origins": settings.cors_origins,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
            "expose_headers": ["ETag", "Location", "X-Request-ID", "Retry-After"],
        }
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        cors=cors,
        hsts_seconds=settings.hsts_seconds,
        html_paths=_docs_pages(app),
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components["Problem"].pop("$defs", None)
        components["FieldError"] = FieldError.model_json_schema()
        faults.declare_unavailable(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
