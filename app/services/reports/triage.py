"""Triage: the officers' writes on a report. Assigning it and setting its priority, moving
it through the state machine (each leaves an entry in its history), and adding a note."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import (
    Conflict,
    FieldErrorType,
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.schemas.report_updates import ReportNoteCreate, ReportTransitionCreate
from app.schemas.reports import ReportTriage
from app.security import Principal, Role
from app.services.reports.history import UPDATES
from app.services.reports.records import OPEN_STATUSES, REPORTS, check_reader, get_report
from app.services.users import holds_role

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


def can_triage(principal: Principal, report: Report) -> str | None:
    """Why ``principal`` may not triage this visible report (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == report.ward_code:
        return None
    return "Only the ward's officers triage its reports."


async def triageable(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    """A visible report the principal may triage, to change (404 invisible, 403 not theirs
    to triage)."""
    check_reader(principal)
    report = await REPORTS.get_for_update(session, principal, report_id)
    reason = can_triage(principal, report)
    if reason:
        raise Forbidden(reason)
    return report


async def ensure_ward_officer(session: AsyncSession, ward_code: str, user_id: uuid.UUID) -> None:
    """422 unless ``user_id`` is an active ward officer of ``ward_code``."""
    if not await holds_role(session, user_id, Role.WARD_OFFICER, ward_code=ward_code):
        raise ValidationFailed.field(
            ("body", "assigned_to"), f"{user_id} is not an active ward officer of {ward_code}."
        )


async def triage_report(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    expected_version: int,
    data: ReportTriage,
) -> Report:
    """Assign a report or change its priority, if it is still at ``expected_version``."""
    report = await triageable(session, principal, report_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    if "priority" in changes and changes["priority"] is None:
        raise ValidationFailed.not_null(["priority"])
    if not changes:
        raise ValidationFailed.missing_one_of(
            [("body", "assigned_to"), ("body", "priority")], "Send assigned_to or priority."
        )
    if report.status not in OPEN_STATUSES:
        raise Conflict(f"The report is {report.status}: closed reports are not triaged.")
    if changes.get("assigned_to") is not None:
        changes["assigned_to"] = uuid.UUID(changes["assigned_to"])
        await ensure_ward_officer(session, report.ward_code, changes["assigned_to"])
    # The history entry is part of the triage's write, under its one event.
    entry = ReportUpdate(
        report_id=report.id,
        province_code=report.province_code,
        ward_code=report.ward_code,
        kind="triage",
        to_status=report.status,
        public=False,
        author_id=principal.subject,
        assigned_to=changes.get("assigned_to", report.assigned_to),
        priority=changes.get("priority"),
    )
    await REPORTS.update(
        session, principal, report, expected_version, changes, fields=changes, parts=[entry]
    )
    return report


async def add_note(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID, data: ReportNoteCreate
) -> ReportUpdate:
    """Add a note to a report's history without changing its status."""
    report = await triageable(session, principal, report_id)
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
    return await UPDATES.insert(session, principal, entry, fields=["note", "public"])


# --- the state machine ----------------------------------------------------------


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
        original = await get_report(session, principal, data.duplicate_of)
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
    return original.id  # type: ignore[no-any-return]


async def transition(
    session: AsyncSession,
    principal: Principal,
    report_id: uuid.UUID,
    data: ReportTransitionCreate,
    expected_version: int | None = None,
) -> Report:
    """Move a report to ``data.to`` with a note; 409 naming the allowed moves otherwise.

    A compare-and-set on the version it was read at: of officers triaging the
    same report at once, exactly one moves it; the others get the 409 (or the
    412, when they named a version with If-Match)."""
    report = await triageable(session, principal, report_id)
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
        await ensure_ward_officer(session, report.ward_code, data.assigned_to)
        values["assigned_to"] = data.assigned_to
    if data.priority is not None:
        values["priority"] = data.priority.value
    now = utcnow()
    if report.acknowledged_at is None:
        # The headline figure: the police's first answer, whatever it was.
        values["acknowledged_at"] = now
    if wanted == "resolved":
        values["resolved_at"] = now
    entry = ReportUpdate(
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
    try:
        await REPORTS.update(
            session,
            principal,
            report,
            report.version,
            values,
            fields=values,
            action="transition",
            parts=[entry],
        )
    except PreconditionFailed:
        # Another officer moved it first (the version moved on with its status).
        await session.refresh(report)
        if expected_version is not None:
            raise PreconditionFailed("The report changed meanwhile; read it again.") from None
        raise not_allowed(report.status, wanted) from None
    return report
