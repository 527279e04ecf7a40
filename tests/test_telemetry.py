"""FastAPI's native OpenTelemetry: off unless WARDSAFE_OTEL asks for it, so that no request
pays for looking up the global providers."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app


async def provider_lookups(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> int:
    """How often answering one request looked up OpenTelemetry's tracer provider."""
    lookups = 0
    real = trace.get_tracer_provider

    def counted() -> trace.TracerProvider:
        nonlocal lookups
        lookups += 1
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    return lookups


async def test_off_by_default(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings(env="development").otel is False
    assert await provider_lookups(settings, engine, monkeypatch) == 0


async def test_on_when_asked(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"otel": True})
    assert await provider_lookups(settings, engine, monkeypatch) >= 1


def layers(settings: Settings, engine: AsyncEngine) -> list[str]:
    """The names of the middleware layers around the router, outermost first."""
    app = create_app(settings, engine=engine)
    layer = app.build_middleware_stack()
    names = []
    while layer is not app.router:
        names.append(type(layer).__name__)
        layer = layer.app  # type: ignore[attr-defined]
    return names


def test_fastapi_exception_telemetry_layer_only_when_asked(
    settings: Settings, engine: AsyncEngine
) -> None:
    assert "ExceptionTelemetryMiddleware" not in layers(settings, engine)
    on = layers(settings.model_copy(update={"otel": True}), engine)
    assert on.index("ServerErrorMiddleware") < on.index("ExceptionTelemetryMiddleware")
    assert on.index("ExceptionTelemetryMiddleware") < on.index("RequestContextMiddleware")


def test_around_the_router_only_layers_that_act(settings: Settings, engine: AsyncEngine) -> None:
    # No FastAPI body limit is set (ours is in RequestContextMiddleware), so
    # FastAPI's pass-through for it is left out, and ours is one layer.
    assert layers(settings, engine) == [
        "ServerErrorMiddleware",
        "RequestContextMiddleware",
        "ExceptionMiddleware",
        "AsyncExitStackMiddleware",
    ]
