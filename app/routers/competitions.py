"""Yearly fire-safety competitions: rounds, entries and rankings."""

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
from app.schemas.common import Text
from app.schemas.competitions import (
    CompetitionCreate,
    CompetitionLevel,
    CompetitionRead,
    CompetitionUpdate,
    EntryCreate,
    EntryRead,
    EntryUpdate,
    Ranking,
)
from app.security import Principal
from app.services.fire import competitions as competition_service
from app.services.fire import entries as entry_service
from app.services.fire import ranking as ranking_service

router = APIRouter(prefix="/api/v1/competitions", tags=["fire safety"])

FireReader = Annotated[Principal, scoped("fire:read")]
CompetitionRunner = Annotated[Principal, scoped("competitions:write")]
_WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.get("", response_model=Page[CompetitionRead], responses=problem_responses(401, 403, 422))
async def list_competitions(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    year: Annotated[int | None, Query(ge=2000, le=2999, examples=[2026])] = None,
    level: Annotated[CompetitionLevel | None, Query()] = None,
    unit_code: Annotated[
        str | None, Text(pattern=r"^\d{2}(\d{3})?$"), Query(examples=["06688"])
    ] = None,
) -> dict[str, Any]:
    """List the competitions of your ward and province, newest year first."""
    rows, next_cursor = await competition_service.list_competitions(
        session,
        principal,
        page,
        codec,
        year=year,
        level=level.value if level else None,
        unit_code=unit_code,
    )
    return page_body(rows, next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=CompetitionRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_competition(
    request: Request,
    session: SessionDep,
    principal: CompetitionRunner,
    body: CompetitionCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Open a round: ward level (the ward's officers) or province level (province officers)."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: competition_service.create_competition(session, principal, body),
        present=CompetitionRead.model_validate,
        location=lambda competition: f"/api/v1/competitions/{competition.id}",
    )


@router.get(
    "/{competition_id}",
    response_model=CompetitionRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_competition(
    session: ReadSessionDep, principal: FireReader, response: Response, competition_id: uuid.UUID
) -> CompetitionRead:
    """Get one competition; the ETag is its version."""
    competition = await competition_service.get_competition(session, principal, competition_id)
    with_etag(response, competition)
    return CompetitionRead.model_validate(competition)


@router.patch("/{competition_id}", response_model=CompetitionRead, responses=_WRITE_ERRORS)
async def update_competition(
    session: SessionDep,
    principal: CompetitionRunner,
    response: Response,
    competition_id: uuid.UUID,
    body: CompetitionUpdate,
    expected_version: IfMatchDep,
) -> CompetitionRead:
    """Rename or date a competition; send `If-Match` with the ETag you read."""
    competition = await competition_service.update_competition(
        session, principal, competition_id, expected_version, body
    )
    with_etag(response, competition)
    return CompetitionRead.model_validate(competition)


@router.delete(
    "/{competition_id}", status_code=204, response_class=Response, responses=_WRITE_ERRORS
)
async def delete_competition(
    session: SessionDep,
    principal: CompetitionRunner,
    competition_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Delete a competition without entries; send `If-Match`."""
    await competition_service.delete_competition(
        session, principal, competition_id, expected_version
    )
    return Response(status_code=204)


@router.get(
    "/{competition_id}/entries",
    response_model=Page[EntryRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_entries(
    session: ReadSessionDep,
    principal: FireReader,
    page: PageDep,
    codec: CursorCodecDep,
    competition_id: uuid.UUID,
) -> dict[str, Any]:
    """List a competition's entries in the order they were made."""
    rows, next_cursor = await entry_service.list_entries(
        session, principal, competition_id, page, codec
    )
    return page_body(rows, next_cursor)


@router.post(
    "/{competition_id}/entries",
    status_code=201,
    response_model=EntryRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_entry(
    request: Request,
    session: SessionDep,
    principal: CompetitionRunner,
    competition_id: uuid.UUID,
    body: EntryCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Enter a team of the competition's unit, once; a province round takes ward top-3 teams."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: entry_service.create_entry(session, principal, competition_id, body),
        present=EntryRead.model_validate,
        location=lambda entry: f"/api/v1/competitions/{competition_id}/entries/{entry.id}",
    )


@router.get(
    "/{competition_id}/entries/{entry_id}",
    response_model=EntryRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_entry(
    session: ReadSessionDep,
    principal: FireReader,
    response: Response,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
) -> EntryRead:
    """Get one entry; the ETag is its version."""
    entry = await entry_service.get_entry(session, principal, competition_id, entry_id)
    with_etag(response, entry)
    return EntryRead.model_validate(entry)


@router.patch(
    "/{competition_id}/entries/{entry_id}", response_model=EntryRead, responses=_WRITE_ERRORS
)
async def update_entry(
    session: SessionDep,
    principal: CompetitionRunner,
    response: Response,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: EntryUpdate,
    expected_version: IfMatchDep,
) -> EntryRead:
    """Record or correct an entry's scores; send `If-Match` with the ETag you read."""
    entry = await entry_service.update_entry(
        session, principal, competition_id, entry_id, expected_version, body
    )
    with_etag(response, entry)
    return EntryRead.model_validate(entry)


@router.delete(
    "/{competition_id}/entries/{entry_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
)
async def delete_entry(
    session: SessionDep,
    principal: CompetitionRunner,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Withdraw an entry; send `If-Match`."""
    await entry_service.delete_entry(session, principal, competition_id, entry_id, expected_version)
    return Response(status_code=204)


@router.get(
    "/{competition_id}/ranking",
    response_model=Ranking,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_ranking(
    session: ReadSessionDep, principal: FireReader, competition_id: uuid.UUID
) -> dict[str, Any]:
    """The ranking in one answer: total, then faster practical time, then theory; ties share."""
    return await ranking_service.ranking(session, principal, competition_id)
