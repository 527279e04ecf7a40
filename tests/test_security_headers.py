"""Security headers on every answer, and personal data that no cache may keep."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.errors import RateLimited
from app.main import create_app
from app.middleware import API_CSP, DOCS_CSP
from tests.conftest import AppClientFactory, Cast

ONE_MIB = 1024 * 1024


def assert_security_headers(response: httpx.Response, csp: str = API_CSP) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers.get_list("content-security-policy") == [csp]


def assert_not_stored(response: httpx.Response) -> None:
    assert response.headers.get_list("cache-control") == ["no-store"]


@pytest.fixture
def raising_app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """The real app plus test-only routes that fail as a 429 and as a bug."""
    app = create_app(settings, engine=engine)

    @app.get("/test-only/throttled")
    async def throttled() -> None:
        raise RateLimited("Slow down.", headers={"Retry-After": "60"})

    @app.get("/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
async def raising_client(raising_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=raising_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class TestEveryAnswer:
    async def test_a_public_json_answer_is_not_stored_and_cannot_be_sniffed_or_framed(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/wards/06688")
        assert response.status_code == 200
        assert_security_headers(response)
        assert_not_stored(response)
        assert "strict-transport-security" not in response.headers

    async def test_an_authenticated_answer_with_personal_data_is_not_stored(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        response = await client.get("/api/v1/users/me", headers=cast.headers(cast.resident))
        assert response.status_code == 200
        assert response.json()["full_name"]
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_a_route_that_sets_no_store_itself_says_it_once(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "nobody", "password": "wrong-password"},
        )
        assert response.status_code in (400, 401)
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_open311_xml_gets_them(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/open311/v2/services.xml")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_metrics_get_them(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_the_openapi_document_gets_the_api_policy(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        assert_security_headers(response)


class TestProblems:
    async def test_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/users/me")
        assert response.status_code == 401
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/no-such-thing")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_413(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/v1/reports",
            content=b"x" * (ONE_MIB + 1),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/wards", params={"limit": 999})
        assert response.status_code == 422
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_429(self, raising_client: httpx.AsyncClient) -> None:
        response = await raising_client.get("/test-only/throttled")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "60"
        assert_security_headers(response)
        assert_not_stored(response)

    async def test_500(self, raising_client: httpx.AsyncClient) -> None:
        response = await raising_client.get("/test-only/boom")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        assert_security_headers(response)
        assert_not_stored(response)


class TestRoutesThatChooseTheirCaching:
    async def test_statistics_keep_their_private_max_age(
        self, client: httpx.AsyncClient, cast: Cast
    ) -> None:
        # Aggregate figures, no personal data: the caller's own browser may keep
        # them as long as the server keeps them (app/routers/reports.py).
        response = await client.get(
            "/api/v1/reports/statistics",
            params={"unit_code": "06688"},
            headers=cast.headers(cast.ward_officer),
        )
        assert response.status_code == 200
        assert response.headers.get_list("cache-control") == ["private, max-age=0"]
        assert_security_headers(response)


class TestHsts:
    async def test_off_by_default(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert "strict-transport-security" not in response.headers

    async def test_sent_on_every_answer_when_the_operator_sets_it(
        self, app_client: AppClientFactory
    ) -> None:
        _, client = await app_client(hsts_seconds=31_536_000)
        for response in (
            await client.get("/healthz"),
            await client.get("/api/v1/no-such-thing"),
            await client.get("/docs"),
        ):
            assert response.headers["strict-transport-security"] == "max-age=31536000"


def _sources(page: str) -> list[tuple[str, str]]:
    """(directive, source) for what an HTML page loads: scripts, stylesheets, icons by
    origin, inline scripts and styles as 'unsafe-inline', the OpenAPI document as 'self'."""
    found = [("script-src", url) for url in re.findall(r'<script src="([^"]+)"', page)]
    for tag in re.findall(r"<link [^>]+>", page):
        href = re.search(r'href="([^"]+)"', tag)
        if href:
            found.append(("style-src" if "stylesheet" in tag else "img-src", href.group(1)))
    if re.search(r"<script>", page):
        found.append(("script-src", "'unsafe-inline'"))
    if re.search(r"<style>", page):
        found.append(("style-src", "'unsafe-inline'"))
    # Swagger UI's `url: '/openapi.json'` and ReDoc's spec-url fetch the document.
    for spec in re.findall(r"(?:url: |spec-url=)['\"]([^'\"]+)['\"]", page):
        found.append(("connect-src", spec))
    return found


def _allowed(csp: str, directive: str, source: str) -> bool:
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    allowed = directives.get(directive, directives["default-src"])
    if source.startswith("'"):
        return source in allowed
    parts = urlsplit(source)
    if not parts.netloc:
        return "'self'" in allowed
    return f"{parts.scheme}://{parts.netloc}" in allowed


class TestDocsPages:
    @pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
    async def test_html_pages_get_a_policy_that_allows_what_they_load(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert_security_headers(response, csp=DOCS_CSP)
        assert_not_stored(response)
        sources = _sources(response.text)
        assert sources
        for directive, source in sources:
            assert _allowed(DOCS_CSP, directive, source), (directive, source)

    async def test_the_swagger_page_loads_its_script_from_the_cdn_and_fetches_the_document(
        self, client: httpx.AsyncClient
    ) -> None:
        sources = _sources((await client.get("/docs")).text)
        assert (
            "script-src",
            "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js",
        ) in sources
        assert ("connect-src", "/openapi.json") in sources

    async def test_the_api_policy_would_block_the_docs(self) -> None:
        # Why the pages need a policy of their own.
        assert not _allowed(API_CSP, "script-src", "https://cdn.jsdelivr.net/x.js")
