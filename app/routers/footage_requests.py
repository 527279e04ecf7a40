"""Footage requests: officers ask, owners answer, and every step joins the chain of custody."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Depends, Query, Request, Response

from app.deps import (
    CurrentPrincipal,
    CursorCodecDep,
    IdempotencyKeyDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
)
from app.deps import scoped as scoped_principal
from app.errors import Forbidden, problem_responses
from app.models.footage_requests import ItemStatus
from app.pagination import Page
from app.responses import created, etag
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.footage_requests import (
    CustodyRead,
    FootageClose,
    FootageHandover,
    FootageRequestCreate,
    FootageRequestRead,
    FootageResponse,
)
from app.security import Principal
from app.services.cameras import footage as footage_service
from app.services.cameras import requesting as requesting_service
from app.services.cameras import steps as step_service

router = APIRouter(prefix="/api/v1/footage-requests", tags=["footage requests"])

# Officers ask and close; owners answer; both follow the requests they are part of.
_PARTIES = ("footage:request", "footage:respond")


def any_scope(*scopes: str) -> object:
    """A caller holding at least one of ``scopes`` (403 naming them otherwise)."""

    async def holder(principal: CurrentPrincipal) -> Principal:
        if not principal.scopes & set(scopes):
            needed = " ".join(scopes)
            raise Forbidden(
                f"This operation needs one of the scopes {needed}, "
                f"which a {principal.role.value} token does not carry.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'
                },
                required_scopes=list(scopes),
            )
        return principal

    return Depends(holder)


Party = Annotated[Principal, any_scope(*_PARTIES)]
Requester = Annotated[Principal, scoped_principal("footage:request")]


def _answer(response: Response, footage_request: FootageRequestRead) -> FootageRequestRead:
    response.headers["ETag"] = etag(footage_request.version)
    return footage_request


@router.get("", response_model=Page[FootageRequestRead], responses=problem_responses(401, 403, 422))
async def list_footage_requests(
    session: ReadSessionDep,
    principal: Party,
    page: PageDep,
    codec: CursorCodecDep,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    case_code: Annotated[str | None, Text(max_length=64), Query(examples=["HL-2026-0142"])] = None,
    camera_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[
        ItemStatus | None, Query(description="Requests with a camera you see in this status.")
    ] = None,
) -> Page[FootageRequestRead]:
    """List the requests you are part of, newest first (owners: only their cameras' part)."""
    items, next_cursor = await footage_service.list_footage_requests(
        session,
        principal,
        page,
        codec,
        ward_code=ward_code,
        case_code=case_code,
        camera_id=camera_id,
        status=status,
    )
    return Page[FootageRequestRead](items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=FootageRequestRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_footage_request(
    request: Request,
    session: SessionDep,
    principal: Requester,
    body: FootageRequestCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Ask cameras of your ward for up to 24 hours of footage (ward officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: requesting_service.create_footage_request(session, principal, body),
        present=lambda footage_request: footage_request,
        location=lambda footage_request: f"/api/v1/footage-requests/{footage_request.id}",
    )


_ONE = problem_responses(401, 403, 404, 422)
_TRANSITION = problem_responses(401, 403, 404, 409, 422)


@router.get("/{request_id}", response_model=FootageRequestRead, responses=_ONE)
async def get_footage_request(
    session: ReadSessionDep, principal: Party, response: Response, request_id: uuid.UUID
) -> FootageRequestRead:
    """Get one request; the ETag is its version, which every step moves on."""
    return _answer(
        response, await footage_service.get_footage_request(session, principal, request_id)
    )


@router.post("/{request_id}/respond", response_model=FootageRequestRead, responses=_TRANSITION)
async def respond(
    session: SessionDep,
    principal: Party,
    response: Response,
    request_id: uuid.UUID,
    body: FootageResponse,
) -> FootageRequestRead:
    """Accept or decline for your cameras (pending → accepted | declined)."""
    return _answer(response, await step_service.respond(session, principal, request_id, body))


@router.post("/{request_id}/handover", response_model=FootageRequestRead, responses=_TRANSITION)
async def hand_over(
    session: SessionDep,
    principal: Party,
    response: Response,
    request_id: uuid.UUID,
    body: FootageHandover,
) -> FootageRequestRead:
    """Record the file handed over for one camera: SHA-256, reference, size (→ handed_over)."""
    return _answer(response, await step_service.hand_over(session, principal, request_id, body))


@router.post("/{request_id}/close", response_model=FootageRequestRead, responses=_TRANSITION)
async def close(
    session: SessionDep,
    principal: Requester,
    response: Response,
    request_id: uuid.UUID,
    body: Annotated[FootageClose | None, Body()] = None,
) -> FootageRequestRead:
    """Close handed-over cameras once the evidence is in (handed_over → closed)."""
    body = body or FootageClose()
    return _answer(response, await step_service.close(session, principal, request_id, body))


@router.get("/{request_id}/custody", response_model=CustodyRead, responses=_ONE)
async def get_custody(
    session: ReadSessionDep,
    principal: Party,
    request_id: uuid.UUID,
    verify: Annotated[
        bool, Query(description="Recompute every hash and say whether the chain holds.")
    ] = False,
) -> CustodyRead:
    """The append-only chain of custody; `?verify=true` checks it has not been tampered with."""
    return await footage_service.get_custody(session, principal, request_id, verify=verify)
