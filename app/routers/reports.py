"""Community reports: filing (signed in or anonymous), reading, tracking, triage fields, figures."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request, Response

from app.deps import (
    CurrentPrincipal,
    CursorCodecDep,
    IdempotencyKeyDep,
    IfMatchDep,
    OptionalPrincipal,
    PageDep,
    ReadSessionDep,
    SessionDep,
    UpdatedSince,
    scoped,
)
from app.errors import problem_responses
from app.pagination import Page
from app.responses import Answer, created, etag, idempotent, plain_json, with_etag
from app.routing import APIRouter
from app.schemas.common import Text, Timestamp, WardCode
from app.schemas.reports import (
    PublicUpdateRead,
    ReportCategory,
    ReportCreate,
    ReportCreated,
    ReportRead,
    ReportStatisticsRead,
    ReportStatus,
    ReportTriage,
    TrackedReportRead,
    TrackRequest,
)
from app.security import Principal
from app.services.reports import filing as filing_service
from app.services.reports import history as history_service
from app.services.reports import records as report_service
from app.services.reports import statistics as statistics_service
from app.services.reports import triage as triage_service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Triager = Annotated[Principal, scoped("reports:triage")]
_NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "",
    status_code=201,
    response_model=ReportCreated,
    responses=problem_responses(401, 403, 409, 422, 429),
    # A token is optional: without one the report is anonymous.
    openapi_extra={"security": [{}]},
)
async def create_report(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    body: ReportCreate,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """File a report, signed in or without a token (anonymous: rate-limited, docs/reports.md)."""
    principal = filing_service.reporting_principal(principal)
    if principal is None or body.anonymous:
        state = request.app.state
        reporter = principal

        async def run() -> Answer:
            report, tracking_code = await filing_service.create_report(session, reporter, body)
            answer = ReportCreated.model_validate(
                {**report_service.readable(report), "tracking_code": tracking_code}
            )
            location = f"/api/v1/reports/{report['id']}"
            return 201, answer, {"Location": location, "ETag": etag(report["version"])}

        # Its key sealed, its answer never cached, the work within the anonymous limit.
        return await idempotent(
            request,
            session,
            principal,
            idempotency_key,
            body,
            run,
            keying=partial(filing_service.anonymous_key, state.settings.secret_key),
            once=partial(
                filing_service.file_within_limit,
                session,
                state.rate_limiter,
                state.anonymous_limits,
                principal,
                request.client.host if request.client else None,
            ),
            headers=_NO_STORE,
        )
    signed = principal

    async def create() -> ReportCreated:
        report, _ = await filing_service.create_report(session, signed, body)
        return ReportCreated.model_validate(report_service.present(signed, report))

    return await created(
        request,
        session,
        signed,
        idempotency_key,
        body,
        create=create,
        present=lambda answer: answer,
        location=lambda answer: f"/api/v1/reports/{answer.id}",
    )


DateFrom = Annotated[
    Timestamp | None,
    Query(alias="from", description="Filed at or after this time (ISO 8601 with offset)."),
]
DateTo = Annotated[
    Timestamp | None, Query(alias="to", description="Filed before this time (with offset).")
]


@router.get("", response_model=Page[ReportRead], responses=problem_responses(401, 403, 422))
async def list_reports(
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    codec: CursorCodecDep,
    status: Annotated[ReportStatus | None, Query()] = None,
    category: Annotated[ReportCategory | None, Query()] = None,
    ward_code: Annotated[WardCode | None, Query()] = None,
    neighbourhood_id: Annotated[uuid.UUID | None, Query()] = None,
    assigned_to: Annotated[uuid.UUID | None, Query()] = None,
    since: DateFrom = None,
    until: DateTo = None,
    updated_since: UpdatedSince = None,
) -> Response:
    """List reports, newest first: officers those of their units, reporters their own."""
    items, next_cursor = await report_service.list_reports(
        session,
        principal,
        page,
        codec,
        status=status.value if status else None,
        category=category.value if category else None,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        assigned_to=assigned_to,
        since=since,
        until=until,
        updated_since=updated_since,
    )
    return plain_json({"items": items, "next_cursor": next_cursor})


@router.get(
    "/statistics",
    response_model=ReportStatisticsRead,
    responses=problem_responses(401, 403, 422),
)
async def report_statistics(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    principal: Annotated[Principal, scoped("reports:read")],
    unit_code: Annotated[
        str,
        Text(min_length=2, max_length=36),
        Query(
            description="A province (2 digits), ward (5 digits) or neighbourhood id.",
            examples=["06688"],
        ),
    ],
    since: DateFrom = None,
    until: DateTo = None,
) -> Any:
    """Counts by status and category, and the median and p90 time to acknowledge, of a unit."""
    cached = await statistics_service.statistics_for(
        session, principal, unit_code, since, until, request.app.state.statistics_cache
    )
    figures = cached.value
    # The figures may stay that much longer in the cache here, so a client may
    # keep them as long; private: they were answered to this caller's token.
    response.headers["Cache-Control"] = f"private, max-age={cached.seconds_left}"
    return ReportStatisticsRead.model_validate(
        {
            "unit_code": figures.unit_code,
            "from": figures.since,
            "to": figures.until,
            "total": figures.total,
            "by_status": figures.by_status,
            "by_category": figures.by_category,
            "acknowledged": figures.acknowledged,
            "median_seconds_to_acknowledge": figures.median_seconds_to_acknowledge,
            "p90_seconds_to_acknowledge": figures.p90_seconds_to_acknowledge,
        }
    )


@router.post(
    "/track",
    response_model=TrackedReportRead,
    responses=problem_responses(404, 422),
    openapi_extra={"security": []},
)
async def track_report(
    session: ReadSessionDep, response: Response, body: TrackRequest
) -> TrackedReportRead:
    """Follow an anonymous report with its tracking code: status and public notes only."""
    report, updates = await history_service.track(session, body.tracking_code)
    response.headers.update(_NO_STORE)
    return TrackedReportRead(
        category=ReportCategory(report.category),
        status=ReportStatus(report.status),
        province_code=report.province_code,
        ward_code=report.ward_code,
        created_at=report.created_at,
        updated_at=report.updated_at,
        acknowledged_at=report.acknowledged_at,
        resolved_at=report.resolved_at,
        updates=[PublicUpdateRead.model_validate(update) for update in updates],
    )


@router.get(
    "/{report_id}", response_model=ReportRead, responses=problem_responses(401, 403, 404, 422)
)
async def get_report(
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    report_id: uuid.UUID,
) -> Response:
    """Get one report in your scope (your own, for reporters); the ETag is its version."""
    report = await report_service.read_report(session, principal, report_id)
    return plain_json(report, headers={"ETag": etag(report["version"])})


@router.patch(
    "/{report_id}",
    response_model=ReportRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def triage_report(
    session: SessionDep,
    principal: Triager,
    response: Response,
    report_id: uuid.UUID,
    body: ReportTriage,
    expected_version: IfMatchDep,
) -> Any:
    """Assign an open report to a ward officer or change its priority; send `If-Match`."""
    report = await triage_service.triage_report(
        session, principal, report_id, expected_version, body
    )
    with_etag(response, report)
    return report_service.present(principal, report)
