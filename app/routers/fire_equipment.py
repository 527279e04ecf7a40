"""Fire-team equipment, each house's readiness, and the list of what falls due."""

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
from app.responses import created, page_body, with_etag
from app.routing import APIRouter
from app.schemas.common import Day, Text
from app.schemas.fire_equipment import (
    EquipmentDueRead,
    EquipmentKind,
    FireEquipmentCreate,
    FireEquipmentRead,
    FireEquipmentUpdate,
    TeamReadiness,
)
from app.security import Principal
from app.services.fire import equipment as equipment_service
from app.services.fire import policies as fire_policies
from app.services.fire import readiness as readiness_service

router = APIRouter(prefix="/api/v1", tags=["fire safety"])

FireReader = Annotated[Principal, scoped("fire:read")]
FireWriter = Annotated[Principal, scoped("fire:write")]
_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.get(
    "/fire-teams/{team_id}/equipment",
    response_model=Page[FireEquipmentRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_fire_equipment(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    team_id: uuid.UUID,
    kind: Annotated[EquipmentKind | None, Query()] = None,
    household: Annotated[str | None, Text(min_length=1, max_length=200), Query()] = None,
) -> dict[str, Any]:
    """List a team's equipment, oldest record first."""
    rows, next_cursor = await equipment_service.list_equipment(
        session,
        principal,
        team_id,
        page,
        codec,
        kind=kind.value if kind else None,
        household=household,
    )
    return page_body(rows, next_cursor)


@router.post(
    "/fire-teams/{team_id}/equipment",
    status_code=201,
    response_model=FireEquipmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_fire_equipment(
    request: Request,
    session: SessionDep,
    principal: FireWriter,
    team_id: uuid.UUID,
    body: FireEquipmentCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Record equipment at a house or public point (the team's leader, head, ward officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: equipment_service.create_equipment(session, principal, team_id, body),
        present=FireEquipmentRead.model_validate,
        location=lambda item: f"/api/v1/fire-teams/{team_id}/equipment/{item.id}",
    )


@router.get(
    "/fire-teams/{team_id}/equipment/{equipment_id}",
    response_model=FireEquipmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_fire_equipment(
    session: ReadSessionDep,
    principal: FireReader,
    response: Response,
    team_id: uuid.UUID,
    equipment_id: uuid.UUID,
) -> FireEquipmentRead:
    """Get one equipment item; the ETag is its version."""
    item = await equipment_service.get_equipment(session, principal, team_id, equipment_id)
    with_etag(response, item)
    return FireEquipmentRead.model_validate(item)


@router.patch(
    "/fire-teams/{team_id}/equipment/{equipment_id}",
    response_model=FireEquipmentRead,
    responses=_WRITE_ERRORS,
)
async def update_fire_equipment(
    session: SessionDep,
    principal: FireWriter,
    response: Response,
    team_id: uuid.UUID,
    equipment_id: uuid.UUID,
    body: FireEquipmentUpdate,
    expected_version: IfMatchDep,
) -> FireEquipmentRead:
    """Change an item, e.g. record an inspection; send `If-Match` with the ETag you read."""
    item = await equipment_service.update_equipment(
        session, principal, team_id, equipment_id, expected_version, body
    )
    with_etag(response, item)
    return FireEquipmentRead.model_validate(item)


@router.delete(
    "/fire-teams/{team_id}/equipment/{equipment_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_fire_equipment(
    session: SessionDep,
    principal: FireWriter,
    team_id: uuid.UUID,
    equipment_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Remove an equipment item; send `If-Match`."""
    await equipment_service.delete_equipment(
        session, principal, team_id, equipment_id, expected_version
    )
    return Response(status_code=204)


@router.get(
    "/fire-teams/{team_id}/readiness",
    response_model=TeamReadiness,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_fire_team_readiness(
    session: ReadSessionDep,
    principal: FireReader,
    team_id: uuid.UUID,
    as_of: Annotated[
        Day | None,
        Query(
            description="The day to judge on (default: today in Vietnam). Late means the "
            "next inspection day is before it; expired, the expiry day is before it.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Per house: which required kit (extinguisher, forced-entry tool, bell) is missing or late."""
    return await readiness_service.readiness(session, principal, team_id, as_of)


@router.get(
    "/equipment-due",
    response_model=Page[EquipmentDueRead],
    responses=problem_responses(401, 403, 422),
)
async def list_equipment_due(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    before: Annotated[
        Day | None,
        Query(
            description="Items whose next inspection or expiry day is before this day "
            "(default: today in Vietnam, i.e. what is overdue now).",
        ),
    ] = None,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[EquipmentKind | None, Query()] = None,
) -> dict[str, Any]:
    """List equipment in your scope due for inspection or expiring before a day, soonest first."""
    items, next_cursor = await equipment_service.list_due(
        session,
        principal,
        page,
        codec,
        before=before or fire_policies.today(),
        ward_code=ward_code,
        team_id=team_id,
        kind=kind.value if kind else None,
    )
    return {"items": items, "next_cursor": next_cursor}
