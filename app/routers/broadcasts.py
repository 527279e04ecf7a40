"""Broadcasts: officers send to units, residents read and acknowledge, officers see reach."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from app.deps import (
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import created, etag, with_etag
from app.routing import APIRouter
from app.schemas.broadcasts import (
    AcknowledgementRead,
    BroadcastCreate,
    BroadcastKind,
    BroadcastReachRead,
    BroadcastRead,
    BroadcastState,
    BroadcastUpdate,
)
from app.security import Principal
from app.services.broadcasts import acknowledgements as acknowledgement_service
from app.services.broadcasts import records as broadcast_records
from app.services.broadcasts import sending as broadcast_sending

router = APIRouter(prefix="/api/v1/broadcasts", tags=["broadcasts"])

Reader = Annotated[Principal, scoped("broadcasts:read")]
Sender = Annotated[Principal, scoped("broadcasts:write")]
_WRITE_ERRORS = problem_responses(401, 403, 404, 412, 422, 428)


@router.post(
    "",
    status_code=201,
    response_model=BroadcastRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_broadcast(
    request: Request,
    session: SessionDep,
    principal: Sender,
    body: BroadcastCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Send a broadcast to wards, neighbourhoods or residential groups you serve (officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: broadcast_sending.create_broadcast(session, principal, body),
        present=lambda record: BroadcastRead.model_validate(broadcast_records.present(record)),
        location=lambda record: f"/api/v1/broadcasts/{record.id}",
    )


@router.get("", response_model=Page[BroadcastRead], responses=problem_responses(401, 403, 422))
async def list_broadcasts(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    codec: CursorCodecDep,
    kind: Annotated[BroadcastKind | None, Query()] = None,
    state: Annotated[
        BroadcastState | None,
        Query(description="Officers: scheduled, live or expired. Residents see live ones only."),
    ] = None,
) -> dict[str, Any]:
    """List broadcasts, newest first: residents the live ones sent to their unit, officers all
    of their units."""
    items, next_cursor = await broadcast_records.list_broadcasts(
        session,
        principal,
        page,
        codec,
        kind=kind.value if kind else None,
        state=state.value if state else None,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/{broadcast_id}",
    response_model=BroadcastRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_broadcast(
    session: ReadSessionDep, principal: Reader, response: Response, broadcast_id: uuid.UUID
) -> Any:
    """Get one broadcast; the ETag is its version."""
    broadcast = await broadcast_records.get_broadcast(session, principal, broadcast_id)
    response.headers["ETag"] = etag(broadcast["version"])
    return broadcast


@router.patch("/{broadcast_id}", response_model=BroadcastRead, responses=_WRITE_ERRORS)
async def update_broadcast(
    session: SessionDep,
    principal: Sender,
    response: Response,
    broadcast_id: uuid.UUID,
    body: BroadcastUpdate,
    expected_version: IfMatchDep,
) -> Any:
    """Change a broadcast's text, kind or times (not its targets); send `If-Match`."""
    broadcast = await broadcast_sending.update_broadcast(
        session, principal, broadcast_id, expected_version, body
    )
    with_etag(response, broadcast)
    return broadcast_records.present(broadcast)


@router.delete("/{broadcast_id}", status_code=204, response_class=Response, responses=_WRITE_ERRORS)
async def delete_broadcast(
    session: SessionDep, principal: Sender, broadcast_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Withdraw a broadcast; send `If-Match`."""
    await broadcast_sending.delete_broadcast(session, principal, broadcast_id, expected_version)
    return Response(status_code=204)


@router.post(
    "/{broadcast_id}/acknowledgements",
    status_code=201,
    response_model=AcknowledgementRead,
    responses={
        200: {"model": AcknowledgementRead, "description": "Already acknowledged: the first one"},
        **problem_responses(401, 403, 404, 422),
    },
)
async def acknowledge_broadcast(
    session: SessionDep, principal: Reader, broadcast_id: uuid.UUID
) -> Response:
    """Acknowledge a live broadcast sent to you: 201 the first time, 200 for a repeat."""
    acknowledgement, new = await acknowledgement_service.acknowledge(
        session, principal, broadcast_id
    )
    body = AcknowledgementRead.model_validate(acknowledgement)
    location = f"/api/v1/broadcasts/{broadcast_id}/acknowledgements/{acknowledgement.id}"
    return Response(
        body.model_dump_json().encode(),
        status_code=201 if new else 200,
        headers={"Location": location, "ETag": etag(acknowledgement.version)},
        media_type="application/json",
    )


@router.get(
    "/{broadcast_id}/acknowledgements/{acknowledgement_id}",
    response_model=AcknowledgementRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_acknowledgement(
    session: ReadSessionDep,
    principal: Reader,
    response: Response,
    broadcast_id: uuid.UUID,
    acknowledgement_id: uuid.UUID,
) -> AcknowledgementRead:
    """One acknowledgement: your own, or any of a broadcast you oversee."""
    found = await acknowledgement_service.get_acknowledgement(
        session, principal, broadcast_id, acknowledgement_id
    )
    with_etag(response, found)
    return AcknowledgementRead.model_validate(found)


@router.get(
    "/{broadcast_id}/reach",
    response_model=BroadcastReachRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def broadcast_reach(
    session: ReadSessionDep, principal: Sender, broadcast_id: uuid.UUID
) -> Any:
    """How many of the targeted households acknowledged (officers)."""
    return await acknowledgement_service.reach(session, principal, broadcast_id)
