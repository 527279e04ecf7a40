"""Machine clients for ward systems (administrators only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Request, Response

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
from app.responses import created
from app.routing import APIRouter
from app.schemas.clients import ClientCreate, ClientCreated, ClientRead
from app.security import Principal
from app.services import clients as client_service

router = APIRouter(prefix="/api/v1/clients", tags=["clients"])

ClientsAdmin = Annotated[Principal, scoped("clients:write")]


@router.get("", response_model=Page[ClientRead], responses=problem_responses(401, 403, 422))
async def list_clients(
    session: ReadSessionDep, principal: ClientsAdmin, page: PageDep, codec: CursorCodecDep
) -> dict[str, Any]:
    """List machine clients (never their secrets)."""
    rows, next_cursor = await client_service.list_clients(session, principal, page, codec)
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=ClientCreated,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_client(
    request: Request,
    session: SessionDep,
    principal: ClientsAdmin,
    body: ClientCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Register a ward system; the answer carries its `client_secret` and Open311 `api_key`,
    shown this once."""

    async def create() -> ClientCreated:
        client, secret, api_key = await client_service.create_client(session, principal, body)
        return ClientCreated.model_validate(
            {
                **ClientRead.model_validate(client).model_dump(),
                "client_secret": secret,
                "api_key": api_key,
            }
        )

    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=create,
        present=lambda client: client,
        location=lambda client: f"/api/v1/clients/{client.id}",
    )


@router.delete(
    "/{client_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_client(
    session: SessionDep, principal: ClientsAdmin, client_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a machine client; its tokens stop being issued at once. Send `If-Match`."""
    await client_service.delete_client(session, principal, client_id, expected_version)
    return Response(status_code=204)
