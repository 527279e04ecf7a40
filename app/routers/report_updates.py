"""A report's history: triage transitions, notes, and reading the updates."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Header, Request, Response

from app.deps import (
    CurrentPrincipal,
    CursorCodecDep,
    IdempotencyKeyDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
    if_match,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import Answer, etag, idempotent
from app.routing import APIRouter
from app.schemas.common import Text
from app.schemas.report_updates import ReportNoteCreate, ReportTransitionCreate, ReportUpdateRead
from app.schemas.reports import ReportRead
from app.security import Principal
from app.services.reports import history as history_service
from app.services.reports import records as report_service
from app.services.reports import triage as triage_service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Triager = Annotated[Principal, scoped("reports:triage")]
OptionalIfMatch = Annotated[
    str | None,
    Text(),
    Header(
        alias="If-Match",
        description='Optional: the ETag you read, e.g. `"3"`; a stale one is a 412.',
        examples=['"1"'],
    ),
]


def _version(value: str | None) -> int | None:
    return None if value is None else if_match(value)


@router.post(
    "/{report_id}/transitions",
    response_model=ReportRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def transition_report(
    request: Request,
    session: SessionDep,
    principal: Triager,
    report_id: uuid.UUID,
    body: ReportTransitionCreate,
    if_match_header: OptionalIfMatch = None,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Move a report on with a note (ward officers); a move not allowed is a 409."""
    expected_version = _version(if_match_header)

    async def run() -> Answer:
        report = await triage_service.transition(
            session, principal, report_id, body, expected_version
        )
        answer = ReportRead.model_validate(report_service.present(principal, report))
        return 200, answer, {"ETag": etag(report.version)}

    return await idempotent(request, session, principal, idempotency_key, body, run)


@router.get(
    "/{report_id}/updates",
    response_model=Page[ReportUpdateRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_report_updates(
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    codec: CursorCodecDep,
    report_id: uuid.UUID,
) -> dict[str, Any]:
    """A report's history, oldest first; reporters see the public entries only."""
    items, next_cursor = await history_service.list_updates(
        session, principal, report_id, page, codec
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/{report_id}/updates",
    status_code=201,
    response_model=ReportUpdateRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_report_note(
    request: Request,
    session: SessionDep,
    principal: Triager,
    report_id: uuid.UUID,
    body: ReportNoteCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Add a public or internal note to a report without moving it (ward officers)."""

    async def run() -> Answer:
        entry = await triage_service.add_note(session, principal, report_id, body)
        answer = ReportUpdateRead.model_validate(entry)
        location = f"/api/v1/reports/{entry.report_id}/updates/{entry.id}"
        return 201, answer, {"Location": location, "ETag": etag(entry.version)}

    return await idempotent(request, session, principal, idempotency_key, body, run)


@router.get(
    "/{report_id}/updates/{update_id}",
    response_model=ReportUpdateRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_report_update(
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    response: Response,
    report_id: uuid.UUID,
    update_id: uuid.UUID,
) -> Any:
    """One entry of a report's history."""
    entry = await history_service.get_update(session, principal, report_id, update_id)
    response.headers["ETag"] = etag(entry["version"])
    return entry
