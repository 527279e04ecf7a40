"""Self-managed groups: the register of a ward's security, mediation and other groups."""

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
from app.responses import created, etag
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.groups import (
    GroupCreate,
    GroupKind,
    GroupPage,
    GroupRead,
    GroupStatus,
    GroupUpdate,
    GroupView,
)
from app.security import Principal
from app.services.groups import registry as group_service

router = APIRouter(prefix="/api/v1/groups", tags=["self-managed groups"])

GroupsReader = Annotated[Principal, scoped("groups:read")]
GroupsWriter = Annotated[Principal, scoped("groups:write")]


@router.get("", response_model=GroupPage, responses=problem_responses(401, 403, 422))
async def list_groups(
    session: ReadSessionDep,
    principal: GroupsReader,
    page: PageDep,
    codec: CursorCodecDep,
    kind: Annotated[GroupKind | None, Query(description="Only this kind.")] = None,
    ward_code: Annotated[
        str | None,
        Text(pattern=r"^\d{5}$"),
        Query(description="Official ward code.", examples=["06688"]),
    ] = None,
    neighbourhood_id: Annotated[
        uuid.UUID | None, Query(description="Only the groups of this neighbourhood.")
    ] = None,
    status: Annotated[GroupStatus | None, Query(description="Only this status.")] = None,
    q: Annotated[
        str | None,
        Text(min_length=1, max_length=100),
        Query(
            description="A word of the name starts with this; diacritics optional "
            "(`khu pho 3` finds Khu phố 3).",
            examples=["an ninh"],
        ),
    ] = None,
    updated_since: UpdatedSince = None,
) -> dict[str, Any]:
    """List the groups in your units (residents and camera owners: names and kinds only)."""
    items, next_cursor = await group_service.list_groups(
        session,
        principal,
        page,
        codec,
        kind=kind,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        status=status,
        q=q,
        updated_since=updated_since,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=GroupRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_group(
    request: Request,
    session: SessionDep,
    principal: GroupsWriter,
    body: GroupCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Register a group (ward officers: their ward; neighbourhood heads: their neighbourhood)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: group_service.create_group(session, principal, body),
        present=GroupRead.model_validate,
        location=lambda group: f"/api/v1/groups/{group['id']}",
    )


@router.get(
    "/{group_id}", response_model=GroupView, responses=problem_responses(401, 403, 404, 422)
)
async def get_group(
    session: ReadSessionDep, principal: GroupsReader, response: Response, group_id: uuid.UUID
) -> dict[str, Any]:
    """Get one group; the ETag is its version."""
    group = await group_service.get_group(session, principal, group_id)
    response.headers["ETag"] = etag(group["version"])
    return group


@router.patch(
    "/{group_id}",
    response_model=GroupRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_group(
    session: SessionDep,
    principal: GroupsWriter,
    response: Response,
    group_id: uuid.UUID,
    body: GroupUpdate,
    expected_version: IfMatchDep,
) -> dict[str, Any]:
    """Change a group you manage; send `If-Match` with the ETag you read."""
    group = await group_service.update_group(session, principal, group_id, expected_version, body)
    response.headers["ETag"] = etag(group["version"])
    return group


@router.delete(
    "/{group_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def delete_group(
    session: SessionDep, principal: GroupsWriter, group_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a group registered by mistake, with its members; send `If-Match`."""
    await group_service.delete_group(session, principal, group_id, expected_version)
    return Response(status_code=204)
