"""Every error, ours and the framework's, is an RFC 9457 problem with a request id."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.main import create_app

PROBLEM = "application/problem+json"
ONE_MIB = 1024 * 1024


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is a complete problem document for ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A streamed body of ``total`` bytes: httpx sends it chunked, without Content-Length."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


class TestNotFound:
    async def test_unknown_path_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/nowhere")
        body = assert_problem(response, 404, "not-found")
        assert body["title"] == "Not found"
        assert "/api/v1/nowhere" in body["detail"]
        assert set(body) == {"type", "title", "status", "detail", "instance", "request_id"}


class TestMethodNotAllowed:
    async def test_wrong_method_gets_405_problem_with_allow(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.delete("/api/v1/wards/06688")
        body = assert_problem(response, 405, "method-not-allowed")
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert "GET" in allowed
        assert "DELETE" not in allowed
        assert "DELETE" in body["detail"]


class TestValidationError:
    async def test_bad_query_gets_422_problem_listing_each_field(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(
            "/api/v1/wards", params={"limit": "999", "province_code": "Quảng Ninh"}
        )
        body = assert_problem(response, 422, "validation-error")
        assert body["title"] == "Invalid request"
        assert body["detail"] == "2 fields failed validation."
        locs = sorted(tuple(e["loc"]) for e in body["errors"])
        assert locs == [("query", "limit"), ("query", "province_code")]
        for error in body["errors"]:
            assert set(error) == {"loc", "msg", "type"}
            assert error["msg"]
            assert error["type"]


class TestPayloadTooLarge:
    async def test_declared_body_over_1_mib_gets_413_problem(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/healthz", content=b"x" * (ONE_MIB + 1))
        body = assert_problem(response, 413, "payload-too-large")
        assert str(ONE_MIB) in body["detail"]
        assert response.headers["connection"] == "close"

    async def test_streamed_body_over_1_mib_without_length_gets_413_problem(
        self, client: httpx.AsyncClient
    ) -> None:
        request = client.build_request("POST", "/healthz", content=chunks(ONE_MIB + 1))
        assert "content-length" not in request.headers
        response = await client.send(request)
        assert_problem(response, 413, "payload-too-large")

    async def test_streamed_body_over_1_mib_to_an_existing_list_gets_413(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.put("/api/v1/wards", content=chunks(2 * ONE_MIB))
        assert_problem(response, 413, "payload-too-large")


# A value an exception's message carries (not the source line that raises it).
LEAKED = "hunter2"


class TestUnexpectedError:
    @pytest.fixture
    def failing_app(self, settings: Settings, engine: AsyncEngine) -> FastAPI:
        app = create_app(settings, engine=engine)

        @app.get("/test-only/boom")
        async def boom() -> None:
            raise RuntimeError(f"database password is {LEAKED}")

        return app

    async def test_unexpected_exception_gets_500_problem_without_internals(
        self, failing_app: FastAPI, caplog: pytest.LogCaptureFixture
    ) -> None:
        transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            with caplog.at_level(logging.ERROR, logger="wardsafe"):
                response = await client.get("/test-only/boom")
        body = assert_problem(response, 500, "internal-error")
        assert body["title"] == "Internal server error"
        assert "request id" in body["detail"]
        for leak in ("Traceback", "RuntimeError", "hunter2", "boom.py", "line "):
            assert leak not in response.text
        # The trace is in the log, under the same request id: the exception's type and
        # frames, not its message, which can quote a request's values (issue 16, item 11).
        logged = [r for r in caplog.records if "exc" in r.__dict__]
        assert len(logged) == 1
        assert logged[0].__dict__["request_id"] == response.headers["x-request-id"]
        trace = logged[0].__dict__["exc"]
        assert "Traceback" in trace
        assert "in boom" in trace
        assert trace.endswith("RuntimeError")
        assert "hunter2" not in trace
        assert logged[0].exc_info is None  # no handler can print the live exception

    async def test_later_requests_are_served_after_an_error(self, failing_app: FastAPI) -> None:
        transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await client.get("/test-only/boom")
            response = await client.get("/healthz")
        assert response.status_code == 200


class TestProblemTypes:
    async def test_not_found_type_is_described(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/problems/not-found")
        assert response.status_code == 200
        assert response.json() == {
            "type": "/problems/not-found",
            "title": "Not found",
            "status": 404,
        }

    @pytest.mark.parametrize(
        ("slug", "status"),
        [
            ("invalid-cursor", 422),
            ("validation-error", 422),
            ("method-not-allowed", 405),
            ("payload-too-large", 413),
            ("internal-error", 500),
            ("service-unavailable", 503),
        ],
    )
    async def test_every_type_the_api_answers_with_is_described(
        self, client: httpx.AsyncClient, slug: str, status: int
    ) -> None:
        response = await client.get(f"/problems/{slug}")
        assert response.status_code == 200
        assert response.json()["type"] == f"/problems/{slug}"
        assert response.json()["status"] == status

    async def test_unknown_type_gets_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/problems/no-such-problem")
        body = assert_problem(response, 404, "not-found")
        assert "no-such-problem" in body["detail"]


class TestOpenApi:
    async def test_document_declares_the_problem_schema(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        document = response.json()
        assert set(document["components"]["schemas"]["Problem"]["properties"]) >= {
            "type",
            "title",
            "status",
            "detail",
            "instance",
            "errors",
        }
        ward = document["paths"]["/api/v1/wards/{code}"]["get"]["responses"]
        assert set(ward) >= {"200", "404", "422"}
        assert "application/problem+json" in ward["404"]["content"]
