"""Request ids, access logs without personal data, the body size limit, CORS."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.logs import JsonFormatter
from app.main import create_app

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
ONE_MIB = 1024 * 1024


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A streamed body of ``total`` bytes: httpx sends it chunked, without Content-Length."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


@pytest.fixture
def echo_app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """The real app plus a test-only route that reads the whole body."""
    app = create_app(settings, engine=engine)

    @app.post("/test-only/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


@pytest.fixture
async def echo_client(echo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=echo_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class TestRequestId:
    async def test_absent_id_is_generated_fresh_for_each_request(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await client.get("/healthz")
        second = await client.get("/healthz")
        assert GENERATED_ID.match(first.headers["x-request-id"])
        assert GENERATED_ID.match(second.headers["x-request-id"])
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    @pytest.mark.parametrize(
        "request_id",
        ["abc-123", "req.2026-01-01T10:00:00_Z", "A" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"],
    )
    async def test_sane_id_is_honoured(self, client: httpx.AsyncClient, request_id: str) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": request_id})
        assert response.headers.get_list("x-request-id") == [request_id]

    @pytest.mark.parametrize(
        "request_id",
        [
            "A" * 129,
            "has space",
            "<script>alert(1)</script>",
            "abc\r\nX-Injected: yes",
            "abc\nSet-Cookie: session=1",
            "id;drop",
            "đường".encode(),
            "",
        ],
    )
    async def test_insane_id_is_replaced(
        self, client: httpx.AsyncClient, request_id: str | bytes
    ) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": request_id})
        assert response.status_code == 200
        [returned] = response.headers.get_list("x-request-id")
        assert GENERATED_ID.match(returned)
        assert "x-injected" not in response.headers
        assert "set-cookie" not in response.headers

    async def test_error_body_carries_the_honoured_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards/99999", headers={"X-Request-ID": "trace-42"})
        assert response.status_code == 404
        assert response.json()["request_id"] == "trace-42"
        assert response.headers["x-request-id"] == "trace-42"


class TestAccessLog:
    async def test_access_record_has_route_template_and_request_id(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            response = await client.get("/api/v1/wards/06688")
        [record] = [r for r in caplog.records if r.name == "wardsafe.access"]
        fields = record.__dict__
        assert fields["route"] == "/api/v1/wards/{code}"
        assert fields["request_id"] == response.headers["x-request-id"]
        assert (fields["method"], fields["status"]) == ("GET", 200)
        assert fields["duration_ms"] >= 0
        assert "06688" not in str(fields)

    async def test_query_string_values_reach_no_log_record(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            ok = await client.get("/api/v1/wards", params={"q": "secretvalue"})
            bad = await client.get("/api/v1/wards", params={"q": "secretvalue", "limit": "0"})
        assert (ok.status_code, bad.status_code) == (200, 422)
        # The test client's own "HTTP Request: GET ..." line is not the server's.
        server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
        assert len([r for r in server_side if r.name == "wardsafe.access"]) == 2
        formatter = JsonFormatter()
        for record in server_side:
            assert "secretvalue" not in record.getMessage()
            assert "secretvalue" not in str(record.__dict__)
            assert "secretvalue" not in formatter.format(record)

    async def test_json_line_carries_the_request_id_after_the_request(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Formatted after the request is over, as a queued handler would.
        with caplog.at_level(logging.INFO):
            response = await client.get("/healthz", headers={"X-Request-ID": "trace-7"})
        [record] = [r for r in caplog.records if r.name == "wardsafe.access"]
        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == response.headers["x-request-id"] == "trace-7"
        assert line["route"] == "/healthz"
        assert line["level"] == "info"

    async def test_unmatched_path_is_logged_without_the_path(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            await client.get("/api/v1/residents/Nguyen-Van-A")
        [record] = [r for r in caplog.records if r.name == "wardsafe.access"]
        assert record.__dict__["route"] == "<unmatched>"
        assert record.__dict__["status"] == 404
        assert "Nguyen" not in str(record.__dict__)


class TestBodySizeLimit:
    async def test_body_of_exactly_1_mib_reaches_the_route(
        self, echo_client: httpx.AsyncClient
    ) -> None:
        declared = await echo_client.post("/test-only/echo", content=b"x" * ONE_MIB)
        streamed = await echo_client.post("/test-only/echo", content=chunks(ONE_MIB))
        assert declared.status_code == streamed.status_code == 200
        assert declared.json() == streamed.json() == {"bytes": ONE_MIB}

    @pytest.mark.parametrize("chunk", [ONE_MIB + 1, 64 * 1024, 1000])
    async def test_streamed_body_one_byte_over_gets_413(
        self, echo_client: httpx.AsyncClient, chunk: int
    ) -> None:
        response = await echo_client.post("/test-only/echo", content=chunks(ONE_MIB + 1, chunk))
        assert response.status_code == 413
        assert response.json()["type"] == "/problems/payload-too-large"

    async def test_body_longer_than_its_content_length_gets_413(self, echo_app: FastAPI) -> None:
        # A client that declares a small body and then keeps sending.
        sent: list[dict[str, object]] = []
        body_messages = [
            {"type": "http.request", "body": b"x" * (ONE_MIB // 2), "more_body": True},
            {"type": "http.request", "body": b"x" * (ONE_MIB // 2), "more_body": True},
            {"type": "http.request", "body": b"x", "more_body": False},
        ]

        async def receive() -> dict[str, object]:
            return body_messages.pop(0) if body_messages else {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/test-only/echo",
            "raw_path": b"/test-only/echo",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"content-length", b"10")],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
            "state": {},
        }
        await echo_app(scope, receive, send)
        starts = [m for m in sent if m["type"] == "http.response.start"]
        assert [m["status"] for m in starts] == [413]

    async def test_limit_follows_the_setting(self, settings: Settings, engine: AsyncEngine) -> None:
        app = create_app(settings.model_copy(update={"max_body_bytes": 100}), engine=engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            small = await client.post("/healthz", content=b"x" * 100)
            large = await client.post("/healthz", content=b"x" * 101)
        assert small.status_code == 405
        assert large.status_code == 413

    async def test_small_body_to_a_get_route_still_gets_405(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/healthz", content=chunks(1000))
        assert response.status_code == 405


class TestCors:
    @pytest.fixture
    async def cors_client(
        self, settings: Settings, engine: AsyncEngine
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(
            settings.model_copy(update={"cors_origins": ["https://ward.example"]}), engine=engine
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client

    async def test_allowed_origin_preflight_is_answered_with_a_request_id(
        self, cors_client: httpx.AsyncClient
    ) -> None:
        response = await cors_client.options(
            "/api/v1/wards",
            headers={"Origin": "https://ward.example", "Access-Control-Request-Method": "GET"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://ward.example"
        assert GENERATED_ID.match(response.headers["x-request-id"])

    async def test_response_exposes_etag_and_request_id(
        self, cors_client: httpx.AsyncClient
    ) -> None:
        response = await cors_client.get("/healthz", headers={"Origin": "https://ward.example"})
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"etag", "x-request-id", "location"} <= exposed

    async def test_a_413_carries_cors_headers_and_a_request_id(
        self, cors_client: httpx.AsyncClient
    ) -> None:
        # CORS sits between the request context and the body limit, as it did
        # when they were separate middlewares: a browser can read the 413.
        response = await cors_client.post(
            "/test-only/none",
            content=b"x" * (ONE_MIB + 1),
            headers={"Origin": "https://ward.example"},
        )
        assert response.status_code == 413
        assert response.json()["type"] == "/problems/payload-too-large"
        assert response.headers["access-control-allow-origin"] == "https://ward.example"
        assert GENERATED_ID.match(response.headers["x-request-id"])

    async def test_other_origin_gets_no_allow_origin(self, cors_client: httpx.AsyncClient) -> None:
        response = await cors_client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers

    async def test_without_configured_origins_no_cors_headers_are_sent(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/healthz", headers={"Origin": "https://ward.example"})
        assert "access-control-allow-origin" not in response.headers
