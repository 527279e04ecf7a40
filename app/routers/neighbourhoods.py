"""Neighbourhoods (khu phố): public reads; ward officers and admins write."""

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
    UpdatedSince,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import created, with_etag
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.neighbourhoods import NeighbourhoodCreate, NeighbourhoodRead, NeighbourhoodUpdate
from app.security import Principal
from app.services import neighbourhoods as neighbourhood_service

router = APIRouter(prefix="/api/v1/neighbourhoods", tags=["neighbourhoods"])

UnitsWriter = Annotated[Principal, scoped("units:write")]
WardCodeFilter = Annotated[
    str | None,
    Text(pattern=r"^\d{5}$"),
    Query(description="Official ward code.", examples=["06688"]),
]
_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.get("", response_model=Page[NeighbourhoodRead], responses=problem_responses(422))
async def list_neighbourhoods(
    session: ReadSessionDep,
    page: PageDep,
    codec: CursorCodecDep,
    ward_code: WardCodeFilter = None,
    updated_since: UpdatedSince = None,
) -> dict[str, Any]:
    """List neighbourhoods (khu phố), optionally of one ward, in code order."""
    rows, next_cursor = await neighbourhood_service.list_neighbourhoods(
        session, page, codec, ward_code=ward_code, updated_since=updated_since
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.get(
    "/{neighbourhood_id}",
    response_model=NeighbourhoodRead,
    responses=problem_responses(404, 422),
)
async def get_neighbourhood(
    session: ReadSessionDep, response: Response, neighbourhood_id: uuid.UUID
) -> Any:
    """Get one neighbourhood; the ETag is its version."""
    row = await neighbourhood_service.get_neighbourhood(session, neighbourhood_id)
    with_etag(response, row)
    return row._asdict()


@router.post(
    "",
    status_code=201,
    response_model=NeighbourhoodRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_neighbourhood(
    request: Request,
    session: SessionDep,
    principal: UnitsWriter,
    body: NeighbourhoodCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a neighbourhood to your ward (ward officers; admins anywhere)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: neighbourhood_service.create_neighbourhood(session, principal, body),
        present=NeighbourhoodRead.model_validate,
        location=lambda record: f"/api/v1/neighbourhoods/{record.id}",
    )


@router.patch("/{neighbourhood_id}", response_model=NeighbourhoodRead, responses=_WRITE_ERRORS)
async def update_neighbourhood(
    session: SessionDep,
    principal: UnitsWriter,
    response: Response,
    neighbourhood_id: uuid.UUID,
    body: NeighbourhoodUpdate,
    expected_version: IfMatchDep,
) -> NeighbourhoodRead:
    """Change a neighbourhood of your ward; send `If-Match` with the ETag you read."""
    record = await neighbourhood_service.update_neighbourhood(
        session, principal, neighbourhood_id, expected_version, body
    )
    with_etag(response, record)
    return NeighbourhoodRead.model_validate(record)


@router.delete(
    "/{neighbourhood_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_neighbourhood(
    session: SessionDep,
    principal: UnitsWriter,
    neighbourhood_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Delete a neighbourhood with no residential groups left; send `If-Match`."""
    await neighbourhood_service.delete_neighbourhood(
        session, principal, neighbourhood_id, expected_version
    )
    return Response(status_code=204)
