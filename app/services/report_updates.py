"""A report's history: the triage state machine, notes, and who reads which entries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_row, utcnow
from app.errors import (
    FieldErrorType,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from app.models.reports import Report, ReportUpdate
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.report_updates import ReportNoteCreate, ReportTransitionCreate
from app.security import Principal
from app.services import audit as audit_service
from app.services import reports as report_service

# The state machine: received → acknowledged → in_progress → resolved, and
# rejected or duplicate from any open status. Closed statuses are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "rejected", "duplicate"),
    "acknowledged": ("in_progress", "rejected", "duplicate"),
    "in_progress": ("resolved", "rejected", "duplicate"),
    "resolved": (),
    "rejected": (),
    "duplicate": (),
}

UPDATES = Keyset("report-updates", columns(ReportUpdate.created_at, ReportUpdate.id))
UPDATE_COLUMNS = columns(
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
)


def not_allowed(current: str, wanted: str) -> InvalidTransition:
    """The 409 for a move the state machine does not have, naming the allowed ones."""
    allowed = list(TRANSITIONS[current])
    moves = ", ".join(allowed) if allowed else "nothing (it is closed)"
    return InvalidTransition(
        f"The report is {current}; it can move to {moves}, not to {wanted}.",
        current_status=current,
        allowed_transitions=allowed,
    )


async def _duplicate_target(
    session: AsyncSession, principal: Principal, report: Report, data: ReportTransitionCreate
) -> uuid.UUID | None:
    if data.to.value != "duplicate":
        if data.duplicate_of is not None:
            raise ValidationFailed.field(
                ("body", "duplicate_of"), "duplicate_of goes only with to=duplicate."
            )
        return None
    if data.duplicate_of is None:
        raise ValidationFailed.field(
            ("body", "duplicate_of"), "Name the report this one repeats.", FieldErrorType.MISSING
        )
    if data.duplicate_of == report.id:
        raise ValidationFailed.field(("body", "duplicate_of"), "A report cannot repeat itself.")
    try:
        original = await report_service.get_report(session, principal, data.duplicate_of)
    except NotFound:
        raise ValidationFailed.field(
            ("body", "duplicate_of"),
            f"No report of yours has the id {data.duplicate_of}.",
            FieldErrorType.NOT_FOUND,
        ) from None
    if original.ward_code != report.ward_code:
        raise ValidationFailed.field(
            ("body", "duplicate_of"), "The original must be in the same ward."
        )
    if original.status == "duplicate":
        raise ValidationFailed.field(
            ("body", "duplicate_of"),
            f"That report is itself a duplicate of {original.duplicate_of}; name the original.",
        )
    return original.id


async def transition(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    data: ReportTransitionCreate,
    expected_version: int | None = None,
) -> Report:
    """Move a report to ``data.to`` with a note; 409 naming the allowed moves otherwise.

    One ``UPDATE ... WHERE status = :from AND version = :v``: of officers
    triaging the same report at once, exactly one moves it; the others get the
    409 (or the 412, when they named a version with If-Match)."""
    report = await report_service.triageable(session, principal, report_id)
    if expected_version is not None and report.version != expected_version:
        raise PreconditionFailed(
            f"The report is at version {report.version}, not {expected_version}; read it again."
        )
    current, wanted = report.status, data.to.value
    if wanted not in TRANSITIONS[current]:
        raise not_allowed(current, wanted)
    values: dict[str, Any] = {"status": wanted}
    duplicate_of = await _duplicate_target(session, principal, report, data)
    if duplicate_of is not None:
        values["duplicate_of"] = duplicate_of
    if data.assigned_to is not None:
        await report_service.ensure_ward_officer(session, report.ward_code, data.assigned_to)
        values["assigned_to"] = data.assigned_to
    if data.priority is not None:
        values["priority"] = data.priority.value
    now = utcnow()
    if report.acknowledged_at is None:
        # The headline figure: the police's first answer, whatever it was.
        values["acknowledged_at"] = now
    if wanted == "resolved":
        values["resolved_at"] = now
    version = report.version
    result = await session.exec(
        update(Report)
        .where(
            col(Report.id) == report.id,
            col(Report.status) == current,
            col(Report.version) == version,
        )
        .values(**values, version=version + 1, updated_at=now)
    )
    await session.refresh(report)
    if result.rowcount != 1:
        if expected_version is not None:
            raise PreconditionFailed("The report changed meanwhile; read it again.")
        raise not_allowed(report.status, wanted)
    session.add(
        ReportUpdate(
            report_id=report.id,
            province_code=report.province_code,
            ward_code=report.ward_code,
            kind="transition",
            from_status=current,
            to_status=wanted,
            note=data.note,
            public=data.public,
            author_id=principal.subject,
            assigned_to=values.get("assigned_to"),
            priority=values.get("priority"),
        )
    )
    audit_service.record(
        session,
        principal,
        "transition",
        "report",
        report.id,
        province_code=report.province_code,
        ward_code=report.ward_code,
        changed_fields=values,
    )
    return report


async def add_note(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, data: ReportNoteCreate
) -> ReportUpdate:
    """Add a note to a report's history without changing its status."""
    report = await report_service.triageable(session, principal, report_id)
    entry = ReportUpdate(
        report_id=report.id,
        province_code=report.province_code,
        ward_code=report.ward_code,
        kind="note",
        to_status=report.status,
        note=data.note,
        public=data.public,
        author_id=principal.subject,
    )
    session.add(entry)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "report_update",
        entry.id,
        province_code=entry.province_code,
        ward_code=entry.ward_code,
        changed_fields=["note", "public"],
    )
    return entry


def _readable(principal: Principal) -> Any:
    """Officers read every entry; reporters and ward systems the public ones only."""
    if report_service.is_officer(principal):
        return col(ReportUpdate.deleted_at).is_(None)
    return col(ReportUpdate.deleted_at).is_(None) & col(ReportUpdate.public).is_(True)


async def list_updates(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
) -> tuple[list[Any], str | None]:
    """A visible report's history, oldest first, as far as the principal may read it."""
    report = await report_service.get_report(session, principal, report_id)
    statement = select(*UPDATE_COLUMNS).where(
        col(ReportUpdate.report_id) == report.id, _readable(principal)
    )
    rows, next_cursor = await fetch_page(
        session, statement, UPDATES, page, codec, {"report_id": report.id}
    )
    return [row._mapping for row in rows], next_cursor


async def get_update(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, update_id: uuid.UUID
) -> Any:
    """One entry of a visible report's history."""
    report = await report_service.get_report(session, principal, report_id)
    row = await fetch_row(
        session,
        select(*UPDATE_COLUMNS).where(
            col(ReportUpdate.id) == update_id,
            col(ReportUpdate.report_id) == report.id,
            _readable(principal),
        ),
    )
    if row is None:
        raise NotFound(f"Report {report_id} has no update with the id {update_id}.")
    return row._mapping
