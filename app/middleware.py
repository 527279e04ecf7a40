"""ASGI middleware: request ids, security headers, access logs and metrics, the
request body limit."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import faults, metrics
from app.context import reset_request_id, set_request_id
from app.errors import AppError, PayloadTooLarge, problem_response
from app.logs import AccessLog, redacted_traceback

access_log = AccessLog("wardsafe.access")
error_logger = logging.getLogger("wardsafe.errors")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

Headers = list[tuple[bytes, bytes]]

# Every answer may carry personal data or come from a signed-in caller: none is
# stored by a browser or a shared cache unless its route says otherwise
# (GET /api/v1/reports/statistics: aggregate figures, `private, max-age`).
NO_STORE: tuple[bytes, bytes] = (b"cache-control", b"no-store")
# JSON, XML, Prometheus text and problems: nothing in them may run or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The docs' browser views (/docs, /redoc, Swagger UI's OAuth2 redirect) are
# FastAPI's HTML pages: scripts and styles from jsDelivr, an inline script that
# starts them, ReDoc's fonts from Google Fonts and its search in a blob: worker,
# FastAPI's favicon, and the OpenAPI document and sign-in from this origin.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "font-src https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; "
    "worker-src blob:; "
    "form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)


def security_headers(csp: str, hsts_seconds: int) -> Headers:
    """The headers every answer gets, Cache-Control aside."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", csp.encode("latin-1")),
    ]
    if hsts_seconds:
        headers.append((b"strict-transport-security", f"max-age={hsts_seconds}".encode()))
    return headers


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the raw path, which may hold ids)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """The one middleware of ours around every route (each layer costs every request).

    Outside in, as three middlewares did before: the request id, security
    headers, access log, metrics and the 500 problem; CORS when it is
    configured; and the request body limit (``_limited``). The request's read
    session is its route's to close (``app.routing.Route``)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        cors: Mapping[str, Any] | None = None,
        hsts_seconds: int = 0,
        html_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Built once: every request only picks its lists (HTML page or not; with
        # Cache-Control: no-store or with the route's own).
        api, html = (
            security_headers(API_CSP, hsts_seconds),
            security_headers(DOCS_CSP, hsts_seconds),
        )
        self._api_headers = (api, [*api, NO_STORE])
        self._html_headers = (html, [*html, NO_STORE])
        self._html_paths = html_paths
        self._too_large = f"The request body exceeds the limit of {max_body_bytes} bytes."
        # CORS sits inside the request context, so that a preflight it answers
        # carries a request id and is counted, and outside the body limit, so
        # that a 413 carries its CORS headers.
        self._inner: ASGIApp = self._limited
        if cors is not None:
            self._inner = CORSMiddleware(self._limited, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Gives the request an id and its answer the security headers, logs it without
        personal data, counts it, and turns a database fault into a 503 problem and any
        other unexpected exception into a 500 problem, each carrying the id."""
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return

        request_id = _request_id(scope)
        token = set_request_id(request_id)
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500
        started = False
        start = time.perf_counter()
        own, stored = self._html_headers if scope["path"] in self._html_paths else self._api_headers

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = message.get("headers", [])
                added = stored
                for name, _ in headers:
                    if name == b"cache-control":
                        added = own
                        break
                message["headers"] = [*headers, *added, header]
            await send(message)

        try:
            await self._inner(scope, receive, send_with_id)
        except Exception as error:
            fault = faults.classify(error)
            if fault is not None:
                # A database briefly away: one short line per kind, not a trace per request.
                faults.fault_log.report(fault, route_template(scope))
                response = faults.unavailable_response(Request(scope))
            else:
                # The trace goes to the log under the request id, without any
                # exception's message (it can quote a request's values); the
                # body says nothing of the internals.
                error_logger.error(
                    "unhandled error",
                    extra={
                        "route": route_template(scope),
                        "method": scope["method"],
                        "request_id": request_id,
                        "exc": redacted_traceback(error),
                    },
                )
                response = problem_response(
                    Request(scope),
                    status=500,
                    slug=AppError.slug,
                    title=AppError.title,
                    detail="An unexpected error occurred. Quote the request id when reporting it.",
                )
            if not started:
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, elapsed)
            access_log.request(request_id, scope["method"], route, status, round(elapsed * 1000, 2))
            reset_request_id(token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """413 to a body over the limit, whether declared up front or streamed; then the app."""
        if scope["type"] == "http":
            has_body, declared = _declared_body(scope)
            if declared > self.max_body_bytes:
                await self._reject(scope, receive, send)
                return
            # Neither Content-Length nor Transfer-Encoding: HTTP/1.1 says the
            # request has no body (RFC 9112, 6.3), which is every GET a phone sends.
            if has_body:
                buffered = await _read_body(receive, self.max_body_bytes)
                if buffered is None:
                    await self._reject(scope, receive, send)
                    return
                receive = _replay(buffered, receive)
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            status=PayloadTooLarge.status,
            slug=PayloadTooLarge.slug,
            title=PayloadTooLarge.title,
            detail=self._too_large,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID if it is sane, else a fresh one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    # 128 random bits as 32 hex digits, as a UUID's hex (without building one).
    return secrets.token_hex(16)


def _declared_body(scope: Scope) -> tuple[bool, int]:
    """Whether the request has a body (Content-Length or Transfer-Encoding), and the
    largest Content-Length it declares (0 for one that is not a number)."""
    has_body = False
    declared = 0
    for name, value in scope["headers"]:
        if name == b"content-length":
            has_body = True
            with contextlib.suppress(ValueError):
                declared = max(declared, int(value))
        elif name == b"transfer-encoding":
            has_body = True
    return has_body, declared


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The request's messages up to the end of its body; None once it exceeds ``limit``.

    The whole body is read before the app runs: a route that never reads it
    (a 405, say) must not let an oversized streamed body through, and the app
    never sees a half-read body. Starlette buffers bodies anyway."""
    buffered: list[Message] = []
    received = 0
    more_body = True
    while more_body:
        message = await receive()
        buffered.append(message)
        if message["type"] != "http.request":
            break  # the client went away; the app sees that as it would
        received += len(message.get("body", b""))
        if received > limit:
            return None
        more_body = message.get("more_body", False)
    return buffered


def _replay(buffered: list[Message], receive: Receive) -> Receive:
    """``receive`` that hands out ``buffered`` first."""

    async def replay_receive() -> Message:
        if buffered:
            return buffered.pop(0)
        return await receive()

    return replay_receive
