"""Certification criteria sets: read by everyone in the workflow, published by administrators."""

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
from app.schemas.certification_criteria import CriteriaSetCreate, CriteriaSetRead, CriteriaSetUpdate
from app.security import Principal
from app.services.certifications import criteria as criteria_service

router = APIRouter(prefix="/api/v1/certification-criteria-sets", tags=["safe-zone certification"])

Reader = Annotated[Principal, scoped("certifications:read")]
Publisher = Annotated[Principal, scoped("criteria:write")]


@router.get("", response_model=Page[CriteriaSetRead], responses=problem_responses(401, 403, 422))
async def list_criteria_sets(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    codec: CursorCodecDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, examples=[2025])] = None,
) -> dict[str, Any]:
    """List criteria sets, newest year and version first."""
    rows, next_cursor = await criteria_service.list_sets(session, page, codec, year=year)
    return {"items": [CriteriaSetRead.of(row) for row in rows], "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=CriteriaSetRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_criteria_set(
    request: Request,
    session: SessionDep,
    principal: Publisher,
    body: CriteriaSetCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Publish a criteria set; it becomes the next `set_version` of its year."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: criteria_service.create_set(session, principal, body),
        present=CriteriaSetRead.of,
        location=lambda record: f"/api/v1/certification-criteria-sets/{record.id}",
    )


@router.get(
    "/{set_id}", response_model=CriteriaSetRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_criteria_set(
    session: ReadSessionDep, principal: Reader, response: Response, set_id: uuid.UUID
) -> CriteriaSetRead:
    """Get one criteria set; the ETag is its version."""
    record = await criteria_service.get_set(session, set_id)
    with_etag(response, record)
    return CriteriaSetRead.of(record)


@router.patch(
    "/{set_id}",
    response_model=CriteriaSetRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_criteria_set(
    session: SessionDep,
    principal: Publisher,
    response: Response,
    set_id: uuid.UUID,
    body: CriteriaSetUpdate,
    expected_version: IfMatchDep,
) -> CriteriaSetRead:
    """Change a set no certification uses yet (409 once used: publish a new version)."""
    record = await criteria_service.update_set(session, principal, set_id, expected_version, body)
    with_etag(response, record)
    return CriteriaSetRead.of(record)


@router.delete(
    "/{set_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def delete_criteria_set(
    session: SessionDep, principal: Publisher, set_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Withdraw a set no certification uses yet; send `If-Match`."""
    await criteria_service.delete_set(session, principal, set_id, expected_version)
    return Response(status_code=204)
