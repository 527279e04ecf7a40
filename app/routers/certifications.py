"""Safe-zone certifications: registration and self-assessment, then the ward's workflow."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response

from app.deps import (
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    PageDep,
    ReadSessionDep,
    SessionDep,
    if_match,
    scoped,
)
from app.errors import problem_responses
from app.models.certifications import CertificationStatus
from app.pagination import Page
from app.responses import created, with_etag
from app.routing import APIRouter
from app.schemas.certifications import (
    CertificationCreate,
    CertificationEventRead,
    CertificationRead,
    CertificationUpdate,
    DecideBody,
    ReviewBody,
    RevokeBody,
    SubmitBody,
)
from app.schemas.common import Text
from app.security import Principal
from app.services.certifications import registry as certification_service
from app.services.certifications import workflow as workflow

router = APIRouter(prefix="/api/v1/certifications", tags=["safe-zone certification"])

Reader = Annotated[Principal, scoped("certifications:read")]
Submitter = Annotated[Principal, scoped("certifications:submit")]
Reviewer = Annotated[Principal, scoped("certifications:review")]
Revoker = Annotated[Principal, scoped("certifications:revoke")]


async def optional_if_match(
    value: Annotated[
        str | None,
        Text(),
        Header(
            alias="If-Match",
            description='Optional: the ETag you read, e.g. `"3"`; a stale one gets 412.',
        ),
    ] = None,
) -> int | None:
    """The version named by ``If-Match``, if the client sent one."""
    return None if value is None else if_match(value)


OptionalIfMatch = Annotated[int | None, Depends(optional_if_match)]
_TRANSITION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)


def _transitioned(response: Response, record: Any) -> CertificationRead:
    with_etag(response, record)
    return CertificationRead.of(record)


@router.get("", response_model=Page[CertificationRead], responses=problem_responses(401, 403, 422))
async def list_certifications(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    codec: CursorCodecDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, examples=[2025])] = None,
    status: Annotated[CertificationStatus | None, Query(examples=["certified"])] = None,
    ward_code: Annotated[str | None, Text(pattern=r"^\d{5}$"), Query(examples=["06688"])] = None,
    neighbourhood_id: Annotated[uuid.UUID | None, Query()] = None,
    criteria_set_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    """List certifications in your scope (`?status=certified&year=2025&ward_code=06688`)."""
    rows, next_cursor = await certification_service.list_certifications(
        session,
        principal,
        page,
        codec,
        year=year,
        status=status,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        criteria_set_id=criteria_set_id,
    )
    return {"items": [CertificationRead.of(row) for row in rows], "next_cursor": next_cursor}


@router.post(
    "",
    status_code=201,
    response_model=CertificationRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_certification(
    request: Request,
    session: SessionDep,
    principal: Submitter,
    body: CertificationCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Register your neighbourhood for a year's certification; it starts as a draft."""
    return await created(
        request,
        session,
        principal,
        idempotency_key,
        body,
        create=lambda: certification_service.create_certification(session, principal, body),
        present=CertificationRead.of,
        location=lambda record: f"/api/v1/certifications/{record.id}",
    )


@router.get(
    "/{certification_id}",
    response_model=CertificationRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_certification(
    session: ReadSessionDep, principal: Reader, response: Response, certification_id: uuid.UUID
) -> CertificationRead:
    """Get one certification with its review, decision and revocation; the ETag is its version."""
    record = await certification_service.get_certification(session, principal, certification_id)
    return _transitioned(response, record)


@router.patch(
    "/{certification_id}",
    response_model=CertificationRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_certification(
    session: SessionDep,
    principal: Submitter,
    response: Response,
    certification_id: uuid.UUID,
    body: CertificationUpdate,
    expected_version: IfMatchDep,
) -> CertificationRead:
    """Change a draft's registration or self-assessment; send `If-Match`."""
    record = await certification_service.update_certification(
        session, principal, certification_id, expected_version, body
    )
    return _transitioned(response, record)


@router.delete(
    "/{certification_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def delete_certification(
    session: SessionDep,
    principal: Submitter,
    certification_id: uuid.UUID,
    expected_version: IfMatchDep,
) -> Response:
    """Withdraw a draft registration; send `If-Match`."""
    await certification_service.delete_certification(
        session, principal, certification_id, expected_version
    )
    return Response(status_code=204)


@router.post(
    "/{certification_id}/submit", response_model=CertificationRead, responses=_TRANSITION_ERRORS
)
async def submit_certification(
    session: SessionDep,
    principal: Submitter,
    response: Response,
    certification_id: uuid.UUID,
    body: SubmitBody,
    expected_version: OptionalIfMatch = None,
) -> CertificationRead:
    """draft → submitted (the neighbourhood head): 100% households committed, criteria assessed."""
    record = await workflow.submit(session, principal, certification_id, body, expected_version)
    return _transitioned(response, record)


@router.post(
    "/{certification_id}/review", response_model=CertificationRead, responses=_TRANSITION_ERRORS
)
async def review_certification(
    session: SessionDep,
    principal: Reviewer,
    response: Response,
    certification_id: uuid.UUID,
    body: ReviewBody,
    expected_version: OptionalIfMatch = None,
) -> CertificationRead:
    """submitted → under_review (ward officer): a finding on every criterion."""
    record = await workflow.review(session, principal, certification_id, body, expected_version)
    return _transitioned(response, record)


@router.post(
    "/{certification_id}/decide", response_model=CertificationRead, responses=_TRANSITION_ERRORS
)
async def decide_certification(
    session: SessionDep,
    principal: Reviewer,
    response: Response,
    certification_id: uuid.UUID,
    body: DecideBody,
    expected_version: OptionalIfMatch = None,
) -> CertificationRead:
    """under_review → certified (with a certificate number) or rejected (ward officer)."""
    record = await workflow.decide(session, principal, certification_id, body, expected_version)
    return _transitioned(response, record)


@router.post(
    "/{certification_id}/revoke", response_model=CertificationRead, responses=_TRANSITION_ERRORS
)
async def revoke_certification(
    session: SessionDep,
    principal: Revoker,
    response: Response,
    certification_id: uuid.UUID,
    body: RevokeBody,
    expected_version: OptionalIfMatch = None,
) -> CertificationRead:
    """certified → revoked (ward or province officer), with the reason."""
    record = await workflow.revoke(session, principal, certification_id, body, expected_version)
    return _transitioned(response, record)


@router.get(
    "/{certification_id}/history",
    response_model=Page[CertificationEventRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def certification_history(
    session: ReadSessionDep,
    principal: Reader,
    page: PageDep,
    codec: CursorCodecDep,
    certification_id: uuid.UUID,
) -> dict[str, Any]:
    """Every step of a certification, oldest first: who, in what role, when, from, to, note."""
    rows, next_cursor = await certification_service.list_history(
        session, principal, certification_id, page, codec
    )
    return {"items": [row._asdict() for row in rows], "next_cursor": next_cursor}
