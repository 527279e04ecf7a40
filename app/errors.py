"""The AppError family and the handlers that render every error as RFC 9457 problem details."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.context import current_request_id

logger = logging.getLogger("wardsafe.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Relative URIs (RFC 9457 3.1.1): resolved against the API's own origin,
# where GET /problems/{slug} describes each one.
PROBLEM_TYPE_BASE = "/problems/"


def problem_type(slug: str) -> str:
    """The stable URI a client branches on, e.g. ``.../problems/not-found``."""
    return PROBLEM_TYPE_BASE + slug


class FieldError(BaseModel):
    """One problem with one input field."""

    loc: list[str | int] = Field(examples=[["query", "limit"]])
    msg: str = Field(examples=["Input should be less than or equal to 200"])
    type: str = Field(examples=["less_than_equal"])


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[problem_type("not-found")])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No ward has the code 99999."])
    instance: str | None = Field(default=None, examples=["/api/v1/wards/99999"])
    request_id: str | None = Field(default=None, examples=["4f1c2a9e0b7d4c3e8a6f5d2b1c0e9f8a"])
    errors: list[FieldError] | None = None


class AppError(Exception):
    """An error a client can act on: rendered as a problem with this status and type."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(AppError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(
        self, detail: str | None = None, *, challenge: str = "Bearer", **extensions: Any
    ) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **extensions)


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(AppError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class InvalidTransition(AppError):
    status, slug, title = 409, "invalid-transition", "Transition not allowed"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class FieldErrorType(StrEnum):
    """The ``type`` of a field problem a service finds (docs/api-guide.md lists them).

    pydantic's own names where one fits, so a client branches on one vocabulary
    whichever layer refused the field; short snake_case names of ours where none
    does. A domain rule's name (``rule``) is a type too."""

    MISSING = "missing"  # pydantic's: a field this request needs is absent
    VALUE_ERROR = "value_error"  # pydantic's catch-all: the value breaks a rule the msg names
    GREATER_THAN = "greater_than"  # pydantic's comparisons, here against another field
    GREATER_THAN_EQUAL = "greater_than_equal"
    LESS_THAN_EQUAL = "less_than_equal"
    DATETIME_FUTURE = "datetime_future"  # pydantic's: must be after now
    DATETIME_PAST = "datetime_past"  # pydantic's: must not be after now
    DATE_PAST = "date_past"  # must not be after today (in Vietnam)
    NULL_NOT_ALLOWED = "null_not_allowed"  # a PATCH sent null for a field that always has one
    NOT_FOUND = "not_found"  # the code or id names no record the caller can see
    DUPLICATE = "duplicate"  # a list names the same thing twice
    REUSED = "reused"  # an Idempotency-Key already used with another body


# A tuple, not any sequence: a bare string would pass for one and render letter by letter.
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one input field: ``loc`` starts with body, query, path or header."""

    loc: Loc
    msg: str
    type: str = FieldErrorType.VALUE_ERROR

    def rendered(self) -> dict[str, Any]:
        """The ``errors[]`` entry, the shape FastAPI's own validation errors take."""
        return {"loc": list(self.loc), "msg": self.msg, "type": str(self.type)}


class ValidationFailed(AppError):
    """Bad input: every field at fault is a ``FieldProblem`` in ``errors``."""

    status, slug, title = 422, "validation-error", "Invalid request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        if "field" in extensions:
            # One shape: a field is named by an errors[] entry's loc, never beside it.
            raise TypeError("name a field with a FieldProblem in errors, not field=")
        if errors:
            extensions["errors"] = [problem.rendered() for problem in errors]
        super().__init__(detail, headers=headers, **extensions)
        self.errors = tuple(errors)

    @classmethod
    def field(
        cls, loc: Loc, msg: str, type: str = FieldErrorType.VALUE_ERROR, **extensions: Any
    ) -> ValidationFailed:
        """One field's problem; its ``msg`` is the problem's ``detail`` too."""
        return cls(msg, errors=[FieldProblem(loc, msg, type)], **extensions)

    @classmethod
    def missing_one_of(cls, locs: Sequence[Loc], msg: str) -> ValidationFailed:
        """A request that needs one of several fields and sent none: each is ``missing``."""
        return cls(msg, errors=[FieldProblem(loc, msg, FieldErrorType.MISSING) for loc in locs])

    @classmethod
    def not_null(cls, names: Sequence[str]) -> ValidationFailed:
        """A PATCH that sent null for body fields that always have a value."""
        return cls(
            f"{names[0]} cannot be null."
            if len(names) == 1
            else f"These fields cannot be null: {', '.join(names)}.",
            errors=[
                FieldProblem(
                    ("body", name), f"{name} cannot be null.", FieldErrorType.NULL_NOT_ALLOWED
                )
                for name in names
            ],
        )


class InvalidCursor(AppError):
    status, slug, title = 422, "invalid-cursor", "Invalid cursor"


class CursorExpired(AppError):
    """A change-feed cursor older than the retention window or minted for another scope:
    what it would resume from may be gone; sync again from zero (docs/sync.md)."""

    status, slug, title = 410, "cursor-expired", "Cursor expired"


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class PreconditionRequired(AppError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class RateLimited(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(AppError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database is unreachable, restarting, out of connections or did not answer in
    time: a fault that passes, so the client retries after Retry-After (a bug is a 500)."""

    slug, title = "database-unavailable", "Database unavailable"


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """Render one problem as ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.url.path
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if extensions:
        body.update(extensions)
    return Response(
        content=orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def _error_class_for(status: int) -> type[AppError] | None:
    """The AppError whose status is ``status`` and that is the first of its kind."""
    pending: list[type[AppError]] = list(AppError.__subclasses__())
    while pending:
        cls = pending.pop(0)
        if cls.status == status:
            return cls
        pending.extend(cls.__subclasses__())
    return None


async def _app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400 and exc.detail == _FASTAPI_BODY_ERROR:
        # FastAPI's answer to a body it could not decode (not UTF-8, say):
        # the same 422 json_invalid problem as any other unreadable JSON.
        return _validation_problem(
            request,
            [{"loc": ["body"], "msg": "The body is not valid JSON.", "type": "json_invalid"}],
        )
    known = _error_class_for(status)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    title = known.title if known else phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    if status == 404 and detail is None:
        detail = f"Nothing is served at {request.url.path}."
    if status == 405 and detail is None:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(
        request,
        status=status,
        slug=known.slug if known else f"http-{status}",
        title=title,
        detail=detail,
        headers=dict(exc.headers) if exc.headers else None,
    )


_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def _loc(raw: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in raw]


async def _validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": _loc(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]
    return _validation_problem(request, errors)


def _validation_problem(request: Request, errors: list[dict[str, Any]]) -> Response:
    count = len(errors)
    detail = f"{count} field{'s' if count != 1 else ''} failed validation."
    return problem_response(
        request,
        status=422,
        slug=ValidationFailed.slug,
        title=ValidationFailed.title,
        detail=detail,
        extensions={"errors": errors},
    )


async def _integrity_error_handler(request: Request, exc: Exception) -> Response:
    # A unique or foreign-key constraint caught a race the service's own
    # checks could not: the client's write conflicts with the stored state.
    logger.info("integrity error", extra={"route": _route_template(request)})
    return problem_response(
        request,
        status=Conflict.status,
        slug=Conflict.slug,
        title=Conflict.title,
        detail="The request conflicts with a record stored meanwhile; read it again and retry.",
    )


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "<unmatched>")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error, ours and the framework's, through the problem renderer.

    Unexpected exceptions are rendered by ``RequestContextMiddleware``, where
    the request id is still bound."""
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(IntegrityError, _integrity_error_handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring the problems a route can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
