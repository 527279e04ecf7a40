"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app import lifecycle
from app.config import Settings
from app.main import create_app
from tests.conftest import AppClientFactory, RedisSpace


async def client_for(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose engine points at ``database_url``."""
    engine = create_async_engine(database_url)
    app: FastAPI = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await engine.dispose()


def request_count(metrics_text: str, method: str, route: str, status: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "wardsafe_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels == {
                "method": method,
                "route": route,
                "status": status,
            }:
                return sample.value
    return 0.0


class TestHealthz:
    async def test_answers_ok(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_answers_ok_even_when_the_database_is_down(self, settings: Settings) -> None:
        async for client in client_for(settings, "postgresql+asyncpg://postgres@127.0.0.1:1/x"):
            response = await client.get("/healthz")
        assert response.status_code == 200


class TestReadyz:
    async def test_migrated_database_is_ready(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        # Not the `client` fixture: its open test transaction holds SQLite's write lock.
        transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "redis": "not_configured"}

    async def test_redis_state_is_reported_and_readiness_does_not_depend_on_it(
        self, settings: Settings, engine: AsyncEngine, redis_space: RedisSpace
    ) -> None:
        for url, state in ((redis_space.url, "ok"), ("redis://127.0.0.1:1/0", "unavailable")):
            app = create_app(settings.model_copy(update={"redis_url": url}), engine=engine)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                response = await c.get("/readyz")
            await app.state.rate_limiter.close()
            assert response.status_code == 200, response.text
            assert response.json() == {"status": "ok", "database": "ok", "redis": state}

    async def test_redis_state_is_in_the_503_problem_too(self, settings: Settings) -> None:
        async for client in client_for(settings, "postgresql+asyncpg://postgres@127.0.0.1:1/x"):
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["redis"] == "not_configured"

    @pytest.mark.parametrize(
        "unreachable_url",
        [
            "postgresql+asyncpg://postgres@127.0.0.1:1/wardsafe",
            "sqlite+aiosqlite:////nonexistent-dir/for/wardsafe.db",
        ],
        ids=["postgresql-refused", "sqlite-missing-directory"],
    )
    async def test_unreachable_database_gets_503_problem(
        self, settings: Settings, unreachable_url: str
    ) -> None:
        async for client in client_for(settings, unreachable_url):
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert body["type"] == "/problems/service-unavailable"
        assert body["detail"] == "The database is unreachable or has never been migrated."
        assert body["request_id"] == response.headers["x-request-id"]
        assert "127.0.0.1" not in response.text

    async def test_empty_database_gets_503_problem(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        async for client in client_for(settings, f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"):
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["type"] == "/problems/service-unavailable"

    async def test_database_at_an_old_revision_gets_503_problem(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        path = tmp_path / "old.db"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            connection.execute("INSERT INTO alembic_version VALUES ('0000_older_revision')")
        async for client in client_for(settings, f"sqlite+aiosqlite:///{path}"):
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert "wardsafe migrate" in response.json()["detail"]


class TestMetrics:
    async def test_prometheus_text_counts_requests_by_route_template(
        self, client: httpx.AsyncClient
    ) -> None:
        route = "/api/v1/wards/{code}"
        before = request_count((await client.get("/metrics")).text, "GET", route, "200")
        assert (await client.get("/api/v1/wards/06688")).status_code == 200
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "wardsafe_http_requests_total" in response.text
        assert f'route="{route}"' in response.text
        assert request_count(response.text, "GET", route, "200") == before + 1

    async def test_raw_paths_never_become_labels(self, client: httpx.AsyncClient) -> None:
        await client.get("/api/v1/wards/06688")
        await client.get("/api/v1/no-such-thing/Nguyen-Van-A")
        text = (await client.get("/metrics")).text
        assert "/api/v1/wards/06688" not in text
        assert "Nguyen" not in text
        routes = {
            sample.labels["route"]
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if "route" in sample.labels
        }
        assert "<unmatched>" in routes
        assert not [route for route in routes if "06688" in route]

    async def test_the_change_feeds_lag_is_the_oldest_writing_transactions_age(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        def lag(text: str) -> float:
            [family] = [
                f
                for f in text_string_to_metric_families(text)
                if f.name == "wardsafe_changes_feed_lag_seconds"
            ]
            return float(family.samples[0].value)

        assert lag((await client.get("/metrics")).text) >= 0
        if engine.dialect.name != "postgresql":
            return  # SQLite's writers finish before anyone reads: no lag
        # A transaction that writes and stays open: the feed waits for it.
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        stuck = await asyncpg.connect(url)
        try:
            transaction = stuck.transaction()
            await transaction.start()
            await stuck.execute("SELECT pg_current_xact_id()")
            await asyncio.sleep(1.2)
            assert lag((await client.get("/metrics")).text) >= 1.0
            await transaction.rollback()
        finally:
            await stuck.close()

    async def test_latency_histogram_is_exposed(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        text = (await client.get("/metrics")).text
        assert (
            'wardsafe_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}'
            in text
        )


class TestReadyzWhileShuttingDown:
    async def test_draining_process_is_not_ready_but_still_serves(
        self, settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
        monkeypatch.setattr(lifecycle.PROCESS, "draining", True)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/readyz")
            alive = await client.get("/healthz")
            ward = await client.get("/api/v1/wards/06688")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == "application/problem+json"
        assert ready.headers["retry-after"] == "5"
        assert ready.json()["type"] == "/problems/service-unavailable"
        assert "shutting down" in ready.json()["detail"]
        assert (alive.status_code, ward.status_code) == (200, 200)


METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"


class TestMetricsAccess:
    """Development without a token: open (TestMetrics). A token set: needed in every
    environment. Production without one: not served."""

    @pytest.mark.parametrize("env", ["development", "production"])
    async def test_with_a_token_set_a_scrape_without_it_gets_401(
        self, app_client: AppClientFactory, env: str
    ) -> None:
        _, client = await app_client(env=env, metrics_token=METRICS_TOKEN)
        response = await client.get("/metrics")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert "wardsafe_http_requests_total" not in response.text

    @pytest.mark.parametrize(
        "authorization",
        [
            f"Bearer {METRICS_TOKEN[:-1]}",
            f"Bearer {METRICS_TOKEN}x",
            f"Basic {METRICS_TOKEN}",
            METRICS_TOKEN,
            "Bearer ",
        ],
        ids=["one-short", "one-long", "other-scheme", "no-scheme", "empty"],
    )
    async def test_a_wrong_token_gets_401(
        self, app_client: AppClientFactory, authorization: str
    ) -> None:
        _, client = await app_client(env="production", metrics_token=METRICS_TOKEN)
        response = await client.get("/metrics", headers={"Authorization": authorization})
        assert response.status_code == 401

    @pytest.mark.parametrize("env", ["development", "production"])
    @pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
    async def test_the_right_token_gets_the_metrics(
        self, app_client: AppClientFactory, env: str, scheme: str
    ) -> None:
        _, client = await app_client(env=env, metrics_token=METRICS_TOKEN)
        response = await client.get(
            "/metrics", headers={"Authorization": f"{scheme} {METRICS_TOKEN}"}
        )
        assert response.status_code == 200
        assert "wardsafe_http_requests_total" in response.text

    async def test_production_without_a_token_does_not_serve_metrics(
        self, app_client: AppClientFactory
    ) -> None:
        _, client = await app_client(env="production", docs=True)
        response = await client.get("/metrics")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/not-found"
        assert "wardsafe_http_requests_total" not in response.text
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


DOCS_PATHS = ["/docs", "/redoc", "/openapi.json"]


class TestDocsAccess:
    @pytest.mark.parametrize(
        ("env", "docs", "served"),
        [
            ("development", None, True),
            ("production", None, False),
            ("production", True, True),
            ("development", False, False),
        ],
        ids=["development-default", "production-default", "production-on", "development-off"],
    )
    async def test_docs_are_served_as_the_setting_says(
        self, app_client: AppClientFactory, env: str, docs: bool | None, served: bool
    ) -> None:
        _, client = await app_client(env=env, docs=docs)
        for path in DOCS_PATHS:
            response = await client.get(path)
            if served:
                assert response.status_code == 200, path
            else:
                assert response.status_code == 404, path
                assert response.headers["content-type"] == "application/problem+json"
                assert "swagger" not in response.text.lower()
        # The API itself is served either way.
        assert (await client.get("/api/v1/wards/06688")).status_code == 200
