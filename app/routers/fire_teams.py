"""Inter-family fire-safety teams (tổ liên gia an toàn PCCC)."""

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
from app.responses import created, with_etag
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.fire_teams import FireTeamCreate, FireTeamRead, FireTeamStatus, FireTeamUpdate
from app.security import Principal
from app.services.fire import policies as fire_policies
from app.services.fire import teams as team_service

router = APIRouter(prefix="/api/v1/fire-teams", tags=["fire safety"])

FireReader = Annotated[Principal, scoped("fire:read")]
FireWriter = Annotated[Principal, scoped("fire:write")]


@router.get("", response_model=Page[FireTeamRead], responses=problem_responses(401, 403, 422))
async def list_fire_teams(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    neighbourhood_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[FireTeamStatus | None, Query()] = None,
    leader_user_id: Annotated[
        uuid.UUID | None, Query(description="Only the teams this group_leader account leads.")
    ] = None,
) -> dict[str, Any]:
    """List the fire teams in your scope, by name."""
    rows, next_cursor = await team_service.list_teams(
        session,
        principal,
        page,
        codec,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        status=status.value if status else None,
        leader_user_id=leader_user_id,
    )
    return {
        "items": [fire_policies.present(principal, row) for row in rows],
        "next_cursor": next_cursor,
    }


@router.post(
    "",
    status_code=201,
    response_model=FireTeamRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_fire_team(
    request: Request,
    session: SessionDep,
    principal: FireWriter,
    body: FireTeamCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Set up a fire team of 5 to 15 households (ward officers, the neighbourhood's head)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: team_service.create_team(session, principal, body),
        present=lambda team: FireTeamRead.model_validate(fire_policies.present(principal, team)),
        location=lambda team: f"/api/v1/fire-teams/{team.id}",
    )


@router.get(
    "/{team_id}", response_model=FireTeamRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_fire_team(
    session: ReadSessionDep, principal: FireReader, response: Response, team_id: uuid.UUID
) -> dict[str, Any]:
    """Get one fire team; the ETag is its version."""
    row = await team_service.get_team(session, principal, team_id)
    with_etag(response, row)
    return fire_policies.present(principal, row)


@router.patch(
    "/{team_id}",
    response_model=FireTeamRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_fire_team(
    session: SessionDep,
    principal: FireWriter,
    response: Response,
    team_id: uuid.UUID,
    body: FireTeamUpdate,
    expected_version: IfMatchDep,
) -> dict[str, Any]:
    """Change a fire team; send `If-Match` with the ETag you read."""
    team = await team_service.update_team(session, principal, team_id, expected_version, body)
    with_etag(response, team)
    return fire_policies.present(principal, team)


@router.delete(
    "/{team_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def delete_fire_team(
    session: SessionDep, principal: FireWriter, team_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a team without drills or competition entries, and its equipment; send `If-Match`."""
    await team_service.delete_team(session, principal, team_id, expected_version)
    return Response(status_code=204)
