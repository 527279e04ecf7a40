"""A report's history: its entries (transitions, triage, notes) and who reads which; and
following an anonymous report by its tracking code. Triage writes the entries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.walk import every
from app.data.writes import UnitOfWrite
from app.db import columns
from app.errors import NotFound
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.pagination import CursorCodec, Keyset, PageParams
from app.security import Principal, hash_secret
from app.services.reports.records import REPORTS, get_report, is_officer

HISTORY = Keyset("report-updates", columns(ReportUpdate.created_at, ReportUpdate.id))


def readable_updates(principal: Principal) -> Visible:
    """Officers read every entry; reporters and ward systems the public ones only (of a
    report they may see: each read names it)."""
    if is_officer(principal):
        return Visible.all()
    return Visible.where(public=True)


UPDATES = Repository(
    ReportUpdate,
    noun="report update",
    columns=(
        ReportUpdate.id,
        ReportUpdate.created_at,
        ReportUpdate.updated_at,
        ReportUpdate.version,
        ReportUpdate.report_id,
        ReportUpdate.province_code,
        ReportUpdate.ward_code,
        ReportUpdate.kind,
        ReportUpdate.from_status,
        ReportUpdate.to_status,
        ReportUpdate.note,
        ReportUpdate.public,
        ReportUpdate.author_id,
        ReportUpdate.assigned_to,
        ReportUpdate.priority,
    ),
    visible=readable_updates,
    keyset=HISTORY,
    filters={"report_id": ReportUpdate.report_id},
    writes=UnitOfWrite("report_update"),
)

# What a tracking code shows of a report, and of its history: the public entries.
TRACKED = Repository(
    Report,
    noun="report",
    columns=(
        Report.id,
        Report.category,
        Report.status,
        Report.province_code,
        Report.ward_code,
        Report.created_at,
        Report.updated_at,
        Report.acknowledged_at,
        Report.resolved_at,
    ),
    # Whoever holds the code: the code is the only key.
    visible=Visible.all(),
    key=Report.tracking_code_hash,
    keyset=REPORTS.keyset,
    missing="No report has this tracking code.",
)
PUBLIC_HISTORY = Repository(
    ReportUpdate,
    noun="report update",
    columns=(
        ReportUpdate.id,
        ReportUpdate.created_at,
        ReportUpdate.kind,
        ReportUpdate.to_status,
        ReportUpdate.note,
    ),
    visible=Visible.where(public=True),
    keyset=HISTORY,
    filters={"report_id": ReportUpdate.report_id},
)


async def list_updates(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
) -> tuple[list[dict[str, Any]], str | None]:
    """A visible report's history, oldest first, as far as the principal may read it."""
    report = await get_report(session, principal, report_id)
    rows, next_cursor = await UPDATES.page(session, principal, page, codec, report_id=report.id)
    return [row._asdict() for row in rows], next_cursor


async def get_update(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, update_id: uuid.UUID
) -> dict[str, Any]:
    """One entry of a visible report's history."""
    report = await get_report(session, principal, report_id)
    try:
        row = await UPDATES.get(session, principal, update_id, report_id=report.id)
    except NotFound:
        raise NotFound(f"Report {report_id} has no update with the id {update_id}.") from None
    return row._asdict()  # type: ignore[no-any-return]


async def track(session: AsyncSession, tracking_code: str) -> tuple[Any, list[dict[str, Any]]]:
    """The report a tracking code names, with its public updates (oldest first)."""
    report = await TRACKED.get(session, None, hash_secret(tracking_code))
    updates = await every(PUBLIC_HISTORY, session, None, report_id=report.id)
    return report, [row._asdict() for row in updates]
