"""Members of self-managed groups."""

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
from app.responses import created, etag
from app.routing import APIRouter
from app.schemas.group_members import MemberCreate, MemberPosition, MemberRead, MemberUpdate
from app.security import Principal
from app.services.groups import members as member_service

router = APIRouter(prefix="/api/v1/groups/{group_id}/members", tags=["self-managed groups"])

GroupsReader = Annotated[Principal, scoped("groups:read")]
MembersWriter = Annotated[Principal, scoped("members:write")]


@router.get("", response_model=Page[MemberRead], responses=problem_responses(401, 403, 404, 422))
async def list_members(
    session: ReadSessionDep,
    principal: GroupsReader,
    page: PageDep,
    codec: CursorCodecDep,
    group_id: uuid.UUID,
    position: Annotated[MemberPosition | None, Query(description="Only this position.")] = None,
    active: Annotated[
        bool | None, Query(description="true: serving members; false: those who left.")
    ] = None,
) -> dict[str, Any]:
    """List a group's members; phone numbers are masked unless they are yours to see."""
    items, next_cursor = await member_service.list_members(
        session, principal, group_id, page, codec, position=position, active=active
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=MemberRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_member(
    request: Request,
    session: SessionDep,
    principal: MembersWriter,
    group_id: uuid.UUID,
    body: MemberCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a member; a grassroots team checks age and residence, a mediation team `elected_on`."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: member_service.create_member(session, principal, group_id, body),
        present=MemberRead.model_validate,
        location=lambda member: f"/api/v1/groups/{group_id}/members/{member['id']}",
    )


@router.get(
    "/{member_id}", response_model=MemberRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_member(
    session: ReadSessionDep,
    principal: GroupsReader,
    response: Response,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
) -> dict[str, Any]:
    """Get one member; the ETag is its version."""
    member = await member_service.get_member(session, principal, group_id, member_id)
    response.headers["ETag"] = etag(member["version"])
    return member


@router.patch(
    "/{member_id}",
    response_model=MemberRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_member(
    session: SessionDep,
    principal: MembersWriter,
    response: Response,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    body: MemberUpdate,
    expected_version: IfMatchDep,
) -> dict[str, Any]:
    """Change a member; send `If-Match` with the ETag you read."""
    member = await member_service.update_member(
        session, principal, group_id, member_id, expected_version, body
    )
    response.headers["ETag"] = etag(member["version"])
    return member


@router.delete(
    "/{member_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_member(
    session: SessionDep,
    principal: MembersWriter,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Delete a member entered by mistake (set `left_on` for one who left); send `If-Match`."""
    await member_service.delete_member(session, principal, group_id, member_id, expected_version)
    return Response(status_code=204)
