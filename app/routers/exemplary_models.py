"""Exemplary models: groups designated a model (mô hình điển hình) for a year."""

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
from app.schemas.common import Text
from app.schemas.exemplary_models import (
    ExemplaryModelCreate,
    ExemplaryModelRead,
    ExemplaryModelUpdate,
)
from app.schemas.groups import GroupKind
from app.security import Principal
from app.services.groups import exemplary as exemplary_service

router = APIRouter(prefix="/api/v1/exemplary-models", tags=["self-managed groups"])

GroupsReader = Annotated[Principal, scoped("groups:read")]
GroupsWriter = Annotated[Principal, scoped("groups:write")]


@router.get("", response_model=Page[ExemplaryModelRead], responses=problem_responses(401, 403, 422))
async def list_exemplary_models(
    session: ReadSessionDep,
    principal: GroupsReader,
    page: PageDep,
    codec: CursorCodecDep,
    group_id: Annotated[uuid.UUID | None, Query(description="Only this group's.")] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100, examples=[2025])] = None,
    ward_code: Annotated[
        str | None,
        Text(pattern=r"^\d{5}$"),
        Query(description="Official ward code.", examples=["06688"]),
    ] = None,
    kind: Annotated[GroupKind | None, Query(description="Only groups of this kind.")] = None,
) -> dict[str, Any]:
    """List the exemplary-model designations of the groups in your units."""
    items, next_cursor = await exemplary_service.list_exemplary_models(
        session,
        principal,
        page,
        codec,
        group_id=group_id,
        year=year,
        ward_code=ward_code,
        kind=kind,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=ExemplaryModelRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_exemplary_model(
    request: Request,
    session: SessionDep,
    principal: GroupsWriter,
    body: ExemplaryModelCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Record a group's designation as an exemplary model for a year (ward officers, admins)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: exemplary_service.create_exemplary_model(session, principal, body),
        present=ExemplaryModelRead.model_validate,
        location=lambda record: f"/api/v1/exemplary-models/{record['id']}",
    )


@router.get(
    "/{model_id}",
    response_model=ExemplaryModelRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_exemplary_model(
    session: ReadSessionDep, principal: GroupsReader, response: Response, model_id: uuid.UUID
) -> dict[str, Any]:
    """Get one designation; the ETag is its version."""
    record = await exemplary_service.get_exemplary_model(session, principal, model_id)
    response.headers["ETag"] = etag(record["version"])
    return record


@router.patch(
    "/{model_id}",
    response_model=ExemplaryModelRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_exemplary_model(
    session: SessionDep,
    principal: GroupsWriter,
    response: Response,
    model_id: uuid.UUID,
    body: ExemplaryModelUpdate,
    expected_version: IfMatchDep,
) -> dict[str, Any]:
    """Change a designation; send `If-Match` with the ETag you read."""
    record = await exemplary_service.update_exemplary_model(
        session, principal, model_id, expected_version, body
    )
    response.headers["ETag"] = etag(record["version"])
    return record


@router.delete(
    "/{model_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def delete_exemplary_model(
    session: SessionDep, principal: GroupsWriter, model_id: uuid.UUID, expected_version: IfMatchDep
) -> Response:
    """Withdraw a designation recorded by mistake; send `If-Match`."""
    await exemplary_service.delete_exemplary_model(session, principal, model_id, expected_version)
    return Response(status_code=204)
