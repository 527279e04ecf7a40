"""Fire drills of inter-family fire-safety teams."""

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
from app.schemas.drills import DrillCreate, DrillOutcome, DrillRead, DrillUpdate
from app.security import Principal
from app.services.fire import drills as drill_service

router = APIRouter(prefix="/api/v1/drills", tags=["fire safety"])

FireReader = Annotated[Principal, scoped("fire:read")]
FireWriter = Annotated[Principal, scoped("fire:write")]


@router.get("", response_model=Page[DrillRead], responses=problem_responses(401, 403, 422))
async def list_drills(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    team_id: Annotated[uuid.UUID | None, Query()] = None,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    neighbourhood_id: Annotated[uuid.UUID | None, Query()] = None,
    held: Annotated[
        bool | None, Query(description="true: held drills; false: planned, not yet held.")
    ] = None,
    outcome: Annotated[DrillOutcome | None, Query()] = None,
    date_from: Annotated[
        Day | None,
        Query(
            alias="from",
            description="On or after this day (`occurs_on`: held day, else planned day).",
        ),
    ] = None,
    date_to: Annotated[
        Day | None,
        Query(
            alias="to",
            description="On or before this day (inclusive).",
        ),
    ] = None,
) -> dict[str, Any]:
    """List drills in your scope in calendar order, held or planned, by team, ward and days."""
    rows, next_cursor = await drill_service.list_drills(
        session,
        principal,
        page,
        codec,
        team_id=team_id,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        held=held,
        outcome=outcome.value if outcome else None,
        date_from=date_from,
        date_to=date_to,
    )
    return page_body(rows, next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=DrillRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_drill(
    request: Request,
    session: SessionDep,
    principal: FireWriter,
    body: DrillCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Plan a drill for a team, or record one already held (the team's leader, head, officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: drill_service.create_drill(session, principal, body),
        present=DrillRead.model_validate,
        location=lambda drill: f"/api/v1/drills/{drill.id}",
    )


@router.get(
    "/{drill_id}", response_model=DrillRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_drill(
    session: ReadSessionDep, principal: FireReader, response: Response, drill_id: uuid.UUID
) -> Any:
    """Get one drill; the ETag is its version."""
    row = await drill_service.get_drill(session, principal, drill_id)
    with_etag(response, row)
    return row._asdict()


@router.patch(
    "/{drill_id}",
    response_model=DrillRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_drill(
    session: SessionDep,
    principal: FireWriter,
    response: Response,
    drill_id: uuid.UUID,
    body: DrillUpdate,
    expected_version: IfMatchDep,
) -> DrillRead:
    """Change a drill, e.g. record it held with its results; send `If-Match`."""
    drill = await drill_service.update_drill(session, principal, drill_id, expected_version, body)
    with_etag(response, drill)
    return DrillRead.model_validate(drill)


@router.delete(
    "/{drill_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_drill(
    session: SessionDep, principal: FireWriter, drill_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Delete a drill recorded by mistake; send `If-Match`."""
    await drill_service.delete_drill(session, principal, drill_id, expected_version)
    return Response(status_code=204)
