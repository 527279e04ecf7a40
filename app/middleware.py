"""ASGI middleware: request ids, access logs and metrics, the request body limit."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.context import reset_request_id, set_request_id
from app.errors import AppError, PayloadTooLarge, problem_response

logger = logging.getLogger("wardsafe.access")
error_logger = logging.getLogger("wardsafe.errors")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the raw path, which may hold ids)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """Gives each request an id, logs it without personal data, counts it, and
    turns an unexpected exception into a 500 problem that carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SANE_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        # 128 random bits as 32 hex digits, as a UUID's hex (without building one).
        request_id = request_id or secrets.token_hex(16)
        token = set_request_id(request_id)
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500
        started = False
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The trace goes to the log under the request id; the body says
            # nothing of the internals.
            error_logger.exception(
                "unhandled error",
                extra={
                    "route": route_template(scope),
                    "method": scope["method"],
                    "request_id": request_id,
                },
            )
            if not started:
                response = problem_response(
                    Request(scope),
                    status=500,
                    slug=AppError.slug,
                    title=AppError.title,
                    detail="An unexpected error occurred. Quote the request id when reporting it.",
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            metrics.observe_request(scope["method"], route, status, elapsed)
            logger.info(
                "request",
                # The id rides on the record itself: a handler that formats
                # later (a queue, another thread) no longer sees the context.
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            reset_request_id(token)


class BodySizeLimitMiddleware:
    """Answers 413 to a body over the limit, whether declared up front or streamed."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        limit = self.max_body_bytes
        too_large = PayloadTooLarge(f"The request body exceeds the limit of {limit} bytes.")

        async def reject() -> None:
            response = problem_response(
                Request(scope),
                status=too_large.status,
                slug=too_large.slug,
                title=too_large.title,
                detail=too_large.detail,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)

        has_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                has_body = True
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await reject()
                    return
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:
            # Neither header: HTTP/1.1 says the request has no body (RFC 9112, 6.3),
            # which is every GET a phone sends.
            await self.app(scope, receive, send)
            return

        # Read the whole body before the app runs: a route that never reads it
        # (a 405, say) must not let an oversized streamed body through, and the
        # app never sees a half-read body. Starlette buffers bodies anyway.
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
                await reject()
                return
            more_body = message.get("more_body", False)

        async def replay_receive() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay_receive, send)
