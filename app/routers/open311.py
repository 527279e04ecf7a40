"""Open311 GeoReport v2 (and FixMyStreet's servicerequestupdates), in JSON and XML.

Every route exists twice, ``.json`` and ``.xml``, and answers errors in the
specification's format for that extension, never as RFC 9457 problems.
Parameters are read from the query string and the form by hand, so that a
bad one is the specification's 400 (FastAPI would answer a 422 problem);
they are declared in the OpenAPI document all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import orjson
from fastapi import Request, Response
from starlette.datastructures import UploadFile

from app import faults
from app.deps import ReadSessionDep, SessionDep
from app.errors import AppError
from app.routing import APIRouter, Route
from app.schemas.open311 import (
    OPEN311_JSON,
    Open311Discovery,
    Open311Error,
    Open311RequestCreated,
    Open311RequestUpdate,
    Open311Service,
    Open311ServiceDefinition,
    Open311ServiceRequest,
    errors_xml,
    to_xml,
)
from app.services.reports import open311 as open311_service
from app.services.reports import open311_reads
from app.services.reports.open311 import Open311Failure

FORMATS = ("json", "xml")


class XMLResponse(Response):
    """An XML document, UTF-8."""

    media_type = "application/xml"


def error_response(xml: bool, status: int, descriptions: list[str]) -> Response:
    """Errors as ``[{"code": ..., "description": ...}]`` or ``<errors><error>...``."""
    if xml:
        return XMLResponse(errors_xml(status, descriptions), status_code=status)
    body = [{"code": status, "description": text} for text in descriptions]
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class Open311Route(Route):
    """A route whose errors, ours and the framework's, take the Open311 error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        xml = self.path.endswith(".xml")

        async def guarded(request: Request) -> Response:
            try:
                open311_service.check_text(request.path_params)
                open311_service.check_text(request.query_params)
                return await handler(request)
            except Open311Failure as error:
                return error_response(xml, error.status, [error.description])
            except AppError as error:
                return error_response(xml, error.status, [error.detail or error.title])

        return guarded

    def unavailable_response(self) -> Response:
        """A database fault's 503 (app/faults.py), in the Open311 error format."""
        response = error_response(self.path.endswith(".xml"), 503, [faults.DETAIL])
        response.headers["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
        return response


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def answer(xml: bool, root: str, data: Any, status: int = 200) -> Response:
    """A document in the asked format: the XML root wraps what JSON gives bare."""
    if xml:
        return XMLResponse(to_xml(root, data), status_code=status)
    return Response(
        orjson.dumps(data, option=OPEN311_JSON), status_code=status, media_type="application/json"
    )


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


# --- the OpenAPI declarations -------------------------------------------------


def _param(name: str, description: str, where: str = "query", **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": {"type": "string", **schema},
    }


JURISDICTION = _param("jurisdiction_id", "The ward code (5 digits).", maxLength=16)
API_KEY = _param("api_key", "The api_key issued with your machine client.", maxLength=256)
READ_KEY = _param(
    "api_key",
    "Optional for reads: with it, your ward or province; without it, the public view of "
    "the ward named by jurisdiction_id.",
    maxLength=256,
)
WINDOW = [
    _param(
        "start_date",
        "Requested at or after this W3C datetime (with a zone). Default: 90 days before end_date.",
        maxLength=64,
    ),
    _param(
        "end_date",
        "Requested at or before this W3C datetime. Default: now, or start_date + 90 days. "
        "The window may not pass 90 days.",
        maxLength=64,
    ),
]
_ERRORS = {
    400: "Bad request: a parameter is missing or malformed",
    403: "The api_key is missing (to file) or invalid, or does not serve this jurisdiction",
    404: "No such jurisdiction, service or request",
    503: "The database is briefly unavailable; retry after `Retry-After` seconds",
}
_XML_EXAMPLES = {
    "services": "<services><service><service_code>noise</service_code>...</service></services>",
    "service_definition": "<service_definition><service_code>noise</service_code>"
    "<attributes><attribute>...</attribute></attributes></service_definition>",
    "service_requests": "<service_requests><request><service_request_id>...</service_request_id>"
    "...</request></service_requests>",
    "service_request_updates": "<service_request_updates><request_update>...</request_update>"
    "</service_request_updates>",
    "discovery": "<discovery><changeset>...</changeset>...</discovery>",
}


def _declare(
    xml: bool, root: str, model: Any, errors: tuple[int, ...], **extra: Any
) -> dict[str, Any]:
    """The route keywords that declare its answers (200 and errors) for one format."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in (*errors, 503):  # every route here reads the database
        if xml:
            responses[status] = {
                "description": _ERRORS[status],
                "content": {
                    "application/xml": {
                        "schema": {"type": "string"},
                        "example": errors_xml(status, ["..."]).decode(),
                    }
                },
            }
        else:
            responses[status] = {"description": _ERRORS[status], "model": list[Open311Error]}
    if xml:
        responses[200] = {
            "description": f"`<{root}>` as the specification writes it",
            "content": {"application/xml": {"example": _XML_EXAMPLES[root]}},
        }
        return {"response_class": XMLResponse, "responses": responses, **extra}
    return {"response_model": model, "responses": responses, **extra}


def _register(fmt: str) -> None:
    xml = fmt == "xml"

    if not xml:

        @router.get(
            "/discovery.json",
            response_model=Open311Discovery,
            # A query parameter with a refused character (Open311Route) is a 400.
            responses={400: {"description": _ERRORS[400], "model": list[Open311Error]}},
            openapi_extra={"security": []},
        )
        async def discovery(request: Request) -> Response:
            """Open311 service discovery: the endpoint, its specification and formats."""
            base = str(request.base_url).rstrip("/")
            production = not request.app.state.settings.is_development
            return answer(False, "discovery", open311_service.discovery(base, production))

    @router.get(
        f"/services.{fmt}",
        **_declare(
            xml,
            "services",
            list[Open311Service],
            (400, 404),
            openapi_extra={"parameters": [JURISDICTION], "security": []},
        ),
    )
    async def list_services(request: Request, session: ReadSessionDep) -> Response:
        """The report categories as Open311 services (`metadata` true where they have
        attributes)."""
        await open311_service.check_jurisdiction(session, _query(request).get("jurisdiction_id"))
        return answer(xml, "services", open311_service.services())

    @router.get(
        f"/services/{{service_code}}.{fmt}",
        **_declare(
            xml,
            "service_definition",
            Open311ServiceDefinition,
            (400, 404),
            openapi_extra={
                "parameters": [
                    _param("service_code", "A service code.", "path", maxLength=64),
                    JURISDICTION,
                ],
                "security": [],
            },
        ),
    )
    async def service_definition(request: Request, session: ReadSessionDep) -> Response:
        """A service definition: its attributes (the questions of a category)."""
        await open311_service.check_jurisdiction(session, _query(request).get("jurisdiction_id"))
        definition = open311_service.service_definition(request.path_params["service_code"])
        return answer(xml, "service_definition", definition)

    @router.post(
        f"/requests.{fmt}",
        **_declare(
            xml,
            "service_requests",
            list[Open311RequestCreated],
            (400, 403, 404),
            openapi_extra={"requestBody": _POST_BODY, "security": []},
        ),
    )
    async def create_request(request: Request, session: SessionDep) -> Response:
        """File a service request (a report); form-encoded, `api_key` required."""
        form = await _form(request)
        report = await open311_service.create_request(session, form)
        created = {
            "service_request_id": str(report.id),
            "service_notice": open311_service.SERVICE_NOTICE,
            "account_id": None,
        }
        return answer(xml, "service_requests", [created])

    @router.get(
        f"/requests.{fmt}",
        **_declare(
            xml,
            "service_requests",
            list[Open311ServiceRequest],
            (400, 403, 404),
            openapi_extra={
                "parameters": [
                    READ_KEY,
                    _param(
                        "service_request_id",
                        "Comma-separated ids; overrides every other filter.",
                        maxLength=4000,
                    ),
                    _param("service_code", "Comma-separated service codes.", maxLength=400),
                    *WINDOW,
                    _param("status", "`open`, `closed`, or both, comma-separated.", maxLength=32),
                    JURISDICTION,
                ],
                "security": [],
            },
        ),
    )
    async def list_requests(request: Request, session: ReadSessionDep) -> Response:
        """Service requests of a ward (or your key's units), newest first, at most 1,000."""
        found = await open311_reads.list_requests(session, _query(request))
        return answer(xml, "service_requests", found)

    @router.get(
        f"/requests/{{service_request_id}}.{fmt}",
        **_declare(
            xml,
            "service_requests",
            list[Open311ServiceRequest],
            (400, 403, 404),
            openapi_extra={
                "parameters": [
                    _param("service_request_id", "A request id.", "path", maxLength=64),
                    READ_KEY,
                    JURISDICTION,
                ],
                "security": [],
            },
        ),
    )
    async def get_request(request: Request, session: ReadSessionDep) -> Response:
        """One service request, as a list of one (the specification's shape)."""
        found = await open311_reads.get_request(
            session, request.path_params["service_request_id"], _query(request)
        )
        return answer(xml, "service_requests", [found])

    @router.get(
        f"/servicerequestupdates.{fmt}",
        **_declare(
            xml,
            "service_request_updates",
            list[Open311RequestUpdate],
            (400, 403, 404),
            openapi_extra={"parameters": [READ_KEY, *WINDOW, JURISDICTION], "security": []},
        ),
    )
    async def list_updates(request: Request, session: ReadSessionDep) -> Response:
        """Status changes and public notes in a window, oldest first (FixMyStreet's
        extension), so that city systems can sync."""
        found = await open311_reads.list_updates(session, _query(request))
        return answer(xml, "service_request_updates", found)


async def _form(request: Request) -> Mapping[str, str]:
    try:
        form = await request.form()
    except Exception:
        raise Open311Failure(400, "The body must be form-encoded.") from None
    fields = {name: value for name, value in form.items() if not isinstance(value, UploadFile)}
    open311_service.check_text(fields)
    return fields


_POST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["api_key", "service_code"],
                "properties": {
                    "api_key": {"type": "string", "maxLength": 256},
                    "service_code": {"type": "string", "maxLength": 64, "example": "noise"},
                    "jurisdiction_id": {"type": "string", "maxLength": 16, "example": "06688"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "long": {"type": "number", "minimum": -180, "maximum": 180},
                    "address_string": {"type": "string", "maxLength": 500},
                    "description": {"type": "string", "maxLength": 4000},
                    "media_url": {"type": "string", "maxLength": 2000},
                    "email": {"type": "string", "description": "Accepted, never stored."},
                    "first_name": {"type": "string", "description": "Accepted, never stored."},
                    "last_name": {"type": "string", "description": "Accepted, never stored."},
                    "phone": {"type": "string", "description": "Accepted, never stored."},
                    "device_id": {"type": "string", "description": "Accepted, never stored."},
                    "account_id": {"type": "string", "description": "Accepted, never stored."},
                },
                "additionalProperties": {
                    "type": "string",
                    "description": "`attribute[CODE]`: an answer to the service's attribute CODE.",
                },
            }
        }
    },
}

for _fmt in FORMATS:
    _register(_fmt)
