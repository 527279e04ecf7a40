"""Community reports as records: who sees which (the one place report scoping is
written), the REPORTS repository, and a report as its reader may see it.

Anonymity is absolute. An anonymous report row keeps no account, contact or
client address; its audit event names no actor and no request id; its sender
holds a random tracking code of which only the SHA-256 is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns
from app.errors import Forbidden
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, Role

OPEN_STATUSES = ("received", "acknowledged", "in_progress")
CLOSED_STATUSES = ("resolved", "rejected", "duplicate")
OFFICER_ROLES = (Role.ADMIN, Role.PROVINCE_OFFICER, Role.WARD_OFFICER)

# What a read of a report gives, in this order.
REPORT_COLUMNS = (
    Report.id,
    Report.created_at,
    Report.updated_at,
    Report.version,
    Report.province_code,
    Report.ward_code,
    Report.neighbourhood_id,
    Report.category,
    Report.description,
    Report.lat,
    Report.lon,
    Report.address,
    Report.media_refs,
    Report.attributes,
    Report.anonymous,
    Report.reporter_id,
    Report.source,
    Report.status,
    Report.priority,
    Report.assigned_to,
    Report.duplicate_of,
    Report.acknowledged_at,
    Report.resolved_at,
)
REPORT_FIELDS = tuple(str(column.key) for column in columns(*REPORT_COLUMNS))


def is_officer(principal: Principal) -> bool:
    """Admins, province and ward officers: they read internal notes and triage."""
    return principal.role in OFFICER_ROLES


_EVERYTHING = Visible.all()


def visible_reports(principal: Principal) -> Visible:
    """The reports a principal may see: officers and ward systems their units', people
    their own signed ones (anonymous ones name nobody). Default deny."""
    role = principal.role
    if role is Role.ADMIN:
        return _EVERYTHING
    if role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if role is Role.WARD_SYSTEM and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.kind == "user" and "reports:create" in principal.scopes:
        return Visible.where(reporter_id=principal.subject)
    return Visible.nothing()


REPORTS = Repository(
    Report,
    noun="report",
    columns=REPORT_COLUMNS,
    visible=visible_reports,
    keyset=Keyset("reports", columns(Report.created_at, Report.id), descending=True),
    filters={
        "status": Report.status,
        "category": Report.category,
        "ward_code": Report.ward_code,
        "neighbourhood_id": Report.neighbourhood_id,
        "assigned_to": Report.assigned_to,
        "since": Filter(Report.created_at, ">="),
        "until": Filter(Report.created_at, "<"),
        "updated_since": Filter(Report.updated_at, ">="),
    },
    writes=UnitOfWrite("report", parts=[ReportUpdate]),
)


def can_read_reports(principal: Principal) -> str | None:
    """Why ``principal`` may not read reports at all (None: it may)."""
    if principal.scopes & {"reports:read", "reports:create"}:
        return None
    return "Reading reports needs the scope reports:read (officers) or reports:create (reporters)."


def check_reader(principal: Principal) -> None:
    """403 unless ``principal`` may read reports at all."""
    reason = can_read_reports(principal)
    if reason:
        raise Forbidden(reason, required_scopes=["reports:read"])


def sees_reporter(principal: Principal, reporter_id: uuid.UUID | None) -> bool:
    """Whether ``principal`` sees who reported: admins, the ward's officers, the reporter."""
    return principal.role in (Role.ADMIN, Role.WARD_OFFICER) or (
        reporter_id is not None and reporter_id == principal.subject
    )


def readable(report: Mapping[str, Any]) -> dict[str, Any]:
    """A new report's row (``filing.create_report``) as readers see it: a read's columns."""
    return {name: report[name] for name in REPORT_FIELDS}


def present(principal: Principal, report: Any) -> dict[str, Any]:
    """A report as ``principal`` may see it (a ``Report``, a new report's row, or a row
    of ``REPORTS``)."""
    if isinstance(report, Report):
        values = report.model_dump()
    elif isinstance(report, Mapping):
        values = readable(report)
    else:
        # zip with the names known up front: a row's mapping view costs
        # several times more, fifty times a page.
        values = dict(zip(REPORT_FIELDS, report, strict=True))
    if not sees_reporter(principal, values.get("reporter_id")):
        values["reporter_id"] = None
    return values


def present_rows(principal: Principal, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of ``REPORTS`` as ``principal`` may see them (``present``, for a page: who sees
    reporters is decided once, not fifty times)."""
    everyone = principal.role in (Role.ADMIN, Role.WARD_OFFICER)
    subject = principal.subject
    found = []
    for row in rows:
        values = dict(zip(REPORT_FIELDS, row))  # noqa: B905 (the row has REPORT_FIELDS' columns)
        if not everyone and values["reporter_id"] != subject:
            values["reporter_id"] = None
        found.append(values)
    return found


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    status: str | None = None,
    category: str | None = None,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    assigned_to: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    updated_since: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Reports in scope, newest first: officers their units', reporters their own."""
    check_reader(principal)
    rows, next_cursor = await REPORTS.page(
        session,
        principal,
        page,
        codec,
        status=status,
        category=category,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        assigned_to=assigned_to,
        since=since,
        until=until,
        updated_since=updated_since,
    )
    return present_rows(principal, rows), next_cursor


async def get_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Any:
    """One report in scope, as a row of ``REPORTS`` (404 outside it)."""
    check_reader(principal)
    return await REPORTS.get(session, principal, report_id)


async def read_report(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> dict[str, Any]:
    """One report in scope as ``principal`` may see it (404 outside it)."""
    return present_rows(principal, [await get_report(session, principal, report_id)])[0]
