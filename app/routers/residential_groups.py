"""Residential groups (tổ dân phố): public reads; ward officers and admins write."""

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
from app.schemas.residential_groups import (
    ResidentialGroupCreate,
    ResidentialGroupRead,
    ResidentialGroupUpdate,
)
from app.security import Principal
from app.services import residential_groups as residential_group_service

router = APIRouter(prefix="/api/v1/residential-groups", tags=["residential groups"])

UnitsWriter = Annotated[Principal, scoped("units:write")]
WardCodeFilter = Annotated[
    str | None,
    Text(pattern=r"^\d{5}$"),
    Query(description="Official ward code.", examples=["06688"]),
]
_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.get(
    "",
    response_model=Page[ResidentialGroupRead],
    responses=problem_responses(422),
)
async def list_residential_groups(
    session: ReadSessionDep,
    page: PageDep,
    codec: CursorCodecDep,
    neighbourhood_id: Annotated[
        uuid.UUID | None, Query(description="Only the groups of this neighbourhood.")
    ] = None,
    ward_code: WardCodeFilter = None,
    updated_since: UpdatedSince = None,
) -> dict[str, Any]:
    """List residential groups (tổ dân phố), by neighbourhood or ward, in code order."""
    rows, next_cursor = await residential_group_service.list_residential_groups(
        session,
        page,
        codec,
        neighbourhood_id=neighbourhood_id,
        ward_code=ward_code,
        updated_since=updated_since,
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}


@router.get(
    "/{group_id}",
    response_model=ResidentialGroupRead,
    responses=problem_responses(404, 422),
)
async def get_residential_group(
    session: ReadSessionDep, response: Response, group_id: uuid.UUID
) -> Any:
    """Get one residential group; the ETag is its version."""
    row = await residential_group_service.get_residential_group(session, group_id)
    with_etag(response, row)
    return row._asdict()


@router.post(
    "",
    status_code=201,
    response_model=ResidentialGroupRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_residential_group(
    request: Request,
    session: SessionDep,
    principal: UnitsWriter,
    body: ResidentialGroupCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a residential group to a neighbourhood of your ward."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: residential_group_service.create_residential_group(session, principal, body),
        present=ResidentialGroupRead.model_validate,
        location=lambda record: f"/api/v1/residential-groups/{record.id}",
    )


@router.patch("/{group_id}", response_model=ResidentialGroupRead, responses=_WRITE_ERRORS)
async def update_residential_group(
    session: SessionDep,
    principal: UnitsWriter,
    response: Response,
    group_id: uuid.UUID,
    body: ResidentialGroupUpdate,
    expected_version: IfMatchDep,
) -> ResidentialGroupRead:
    """Change a residential group of your ward; send `If-Match` with the ETag you read."""
    record = await residential_group_service.update_residential_group(
        session, principal, group_id, expected_version, body
    )
    with_etag(response, record)
    return ResidentialGroupRead.model_validate(record)


@router.delete(
    "/{group_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_residential_group(
    session: SessionDep, principal: UnitsWriter, group_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a residential group; send `If-Match`."""
    await residential_group_service.delete_residential_group(
        session, principal, group_id, expected_version
    )
    return Response(status_code=204)
