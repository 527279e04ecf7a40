"""Community reports: submitting (signed in or anonymous), reading in scope, triage fields.

Anonymity is absolute. An anonymous report row keeps no account, contact or
client address; its audit event names no actor and no request id; its sender
holds a random tracking code of which only the SHA-256 is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import current_request_id
from app.data.prepared import NewRows, Prepared
from app.data.writes import audit_event
from app.db import columns, compare_and_set, fetch_row, fetch_rows, utcnow
from app.errors import Conflict, FieldErrorType, FieldProblem, Forbidden, NotFound, ValidationFailed
from app.models.reports import Report, ReportUpdate
from app.models.units import Neighbourhood
from app.models.users import User
from app.pagination import CursorCodec, Keyset, PageParams, fetch_prepared_page, prepared_page
from app.schemas.reports import ReportCreate, ReportTriage
from app.security import Principal, Role, hash_secret, new_secret
from app.services import audit as audit_service
from app.services import report_categories
from app.services import units as unit_service

OPEN_STATUSES = ("received", "acknowledged", "in_progress")
CLOSED_STATUSES = ("resolved", "rejected", "duplicate")
OFFICER_ROLES = (Role.ADMIN, Role.PROVINCE_OFFICER, Role.WARD_OFFICER)
TRACKING_CODE_PREFIX = "wtc_"

REPORTS = Keyset("reports", columns(Report.created_at, Report.id), descending=True)
REPORT_COLUMNS = columns(
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
# Built once: coercing twenty columns into a new SELECT cost a read by id a tenth
# of its CPU; each request adds its WHERE to a copy.
REPORT_SELECT = select(*REPORT_COLUMNS)
REPORT_FIELDS = tuple(str(column.key) for column in REPORT_COLUMNS)


def is_officer(principal: Principal) -> bool:
    """Admins, province and ward officers: they read internal notes and triage."""
    return principal.role in OFFICER_ROLES


def _visibility(principal: Principal) -> tuple[str, dict[str, Any]]:
    """Which reports a principal may see: a shape of ``_VISIBLE`` and the values it binds.

    Officers and ward systems see their units', people their own."""
    if principal.role is Role.ADMIN:
        return "all", {}
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return "province", {"visible_unit": principal.province_code}
    if principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return "ward", {"visible_unit": principal.ward_code}
    if principal.role is Role.WARD_SYSTEM and principal.province_code:
        return "province", {"visible_unit": principal.province_code}
    if principal.kind == "user" and "reports:create" in principal.scopes:
        # People see their own signed reports; anonymous ones name nobody.
        return "own", {"visible_reporter": principal.subject}
    return "none", {}


def _visible_in(shape: str, value: Callable[[str], Any]) -> ColumnElement[bool]:
    """The predicate of a visibility shape; ``value(name)`` gives what it compares with
    (a ``bindparam`` for a statement built once, or the principal's own value)."""
    live = col(Report.deleted_at).is_(None)
    if shape == "all":
        return live
    if shape == "province":
        return and_(live, col(Report.province_code) == value("visible_unit"))
    if shape == "ward":
        return and_(live, col(Report.ward_code) == value("visible_unit"))
    if shape == "own":
        return and_(live, col(Report.reporter_id) == value("visible_reporter"))
    return false()


_VISIBLE = {
    shape: _visible_in(shape, bindparam) for shape in ("all", "province", "ward", "own", "none")
}


def _visible(principal: Principal) -> ColumnElement[bool]:
    """The reports a principal may see, as a predicate with its values in it."""
    shape, values = _visibility(principal)
    return _visible_in(shape, values.__getitem__)


def can_read_reports(principal: Principal) -> str | None:
    """Why ``principal`` may not read reports at all (None: it may)."""
    if principal.scopes & {"reports:read", "reports:create"}:
        return None
    return "Reading reports needs the scope reports:read (officers) or reports:create (reporters)."


def can_triage(principal: Principal, report: Report) -> str | None:
    """Why ``principal`` may not triage this visible report (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == report.ward_code:
        return None
    return "Only the ward's officers triage its reports."


def sees_reporter(principal: Principal, reporter_id: uuid.UUID | None) -> bool:
    """Whether ``principal`` sees who reported: admins, the ward's officers, the reporter."""
    return principal.role in (Role.ADMIN, Role.WARD_OFFICER) or (
        reporter_id is not None and reporter_id == principal.subject
    )


def readable(report: Mapping[str, Any]) -> dict[str, Any]:
    """A new report's row (``create_report``) as readers see it: the columns of a read."""
    return {name: report[name] for name in REPORT_FIELDS}


def present(principal: Principal, report: Any) -> dict[str, Any]:
    """A report as ``principal`` may see it (a ``Report``, a new report's row, or a row
    of ``REPORT_COLUMNS``)."""
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


async def resolve_place(
    session: AsyncSession,
    principal: Principal | None,
    ward_code: str | None,
    neighbourhood_id: uuid.UUID | None,
) -> tuple[str, str, uuid.UUID | None]:
    """(province, ward, neighbourhood) of a report, defaulting to the caller's own unit."""
    if neighbourhood_id is None and ward_code is None and principal is not None:
        neighbourhood_id = principal.neighbourhood_id
        ward_code = principal.ward_code if neighbourhood_id is None else None
    if neighbourhood_id is not None:
        row = await fetch_row(
            session,
            select(*columns(Neighbourhood.province_code, Neighbourhood.ward_code)).where(
                col(Neighbourhood.id) == neighbourhood_id, col(Neighbourhood.deleted_at).is_(None)
            ),
        )
        if row is None:
            raise ValidationFailed.field(
                ("body", "neighbourhood_id"),
                f"No neighbourhood has the id {neighbourhood_id}.",
                FieldErrorType.NOT_FOUND,
            )
        if ward_code is not None and ward_code != row.ward_code:
            raise ValidationFailed.field(
                ("body", "ward_code"), f"Neighbourhood {neighbourhood_id} is not in {ward_code}."
            )
        return row.province_code, row.ward_code, neighbourhood_id
    if ward_code is None:
        raise ValidationFailed.missing_one_of(
            [("body", "ward_code"), ("body", "neighbourhood_id")],
            "Say where: give ward_code or neighbourhood_id.",
        )
    province_code = await unit_service.province_of_ward(session, ward_code)
    if province_code is None:
        raise ValidationFailed.field(
            ("body", "ward_code"), f"No ward has the code {ward_code!r}.", FieldErrorType.NOT_FOUND
        )
    return province_code, ward_code, None


def checked_answers(category: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The category's answers, or a 422 naming each one that does not fit."""
    try:
        return report_categories.check_answers(category, answers)
    except report_categories.AnswerError as error:
        raise ValidationFailed(
            str(error),
            errors=[
                FieldProblem(("body", "attributes", code), message)
                for code, message in error.problems
            ],
        ) from None


async def record_creation(
    session: AsyncSession,
    principal: Principal | None,
    report: Mapping[str, Any],
    changed_fields: set[str],
) -> None:
    """The audit event of a new report (its row); an anonymous one names no actor and no
    request."""
    untied = report["anonymous"] and report["source"] == "app"
    await audit_event(
        session,
        None if untied else principal,
        "create",
        "report",
        report["id"],
        province_code=report["province_code"],
        ward_code=report["ward_code"],
        changed_fields=changed_fields,
        # The request id would tie the report to the access log line of its
        # request (and to whatever a proxy in front logged beside it).
        request_id=None if untied else current_request_id(),
        stamp=untied_stamp() if untied else None,
    )


def untied_stamp() -> dict[str, Any]:
    """An id and times for a record of an anonymous report that say no more than the
    minute it was made: a time-ordered id or a time to the microsecond would match it
    to its request's line in a proxy's access log, and that line holds the address."""
    minute = utcnow().replace(second=0, microsecond=0)
    return {"id": uuid.uuid4(), "created_at": minute, "updated_at": minute}


NEW_REPORTS = NewRows(Report)


async def create_report(
    session: AsyncSession, principal: Principal | None, data: ReportCreate
) -> tuple[dict[str, Any], str | None]:
    """File a report; returns its row and, for an anonymous one, its one-time tracking code."""
    if principal is not None and principal.kind != "user":
        raise Forbidden("Reports come from people; ward systems use the Open311 API.")
    anonymous = principal is None or data.anonymous
    # An anonymous report keeps nothing derived from its sender: no place
    # defaulted from the account either.
    province_code, ward_code, neighbourhood_id = await resolve_place(
        session, None if anonymous else principal, data.ward_code, data.neighbourhood_id
    )
    attributes = checked_answers(data.category.value, data.attributes)
    tracking_code = new_secret(TRACKING_CODE_PREFIX, 16) if anonymous else None
    report = NEW_REPORTS.values(
        **(untied_stamp() if anonymous else {}),
        province_code=province_code,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        category=data.category.value,
        description=data.description,
        lat=data.lat,
        lon=data.lon,
        address=data.address,
        media_refs=list(data.media_refs),
        attributes=attributes,
        anonymous=anonymous,
        reporter_id=None if anonymous or principal is None else principal.subject,
        tracking_code_hash=hash_secret(tracking_code) if tracking_code else None,
    )
    # A row, not an ORM object: nothing reads the report back in this request
    # (docs/performance.md, the write path).
    await NEW_REPORTS.insert(session, report)
    fields = (data.model_fields_set | {"category", "description", "ward_code"}) - {"anonymous"}
    await record_creation(session, principal, report, fields)
    return report, tracking_code


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
) -> tuple[list[dict[str, Any]], str | None]:
    """Reports in scope, newest first: officers their units', reporters their own."""
    reason = can_read_reports(principal)
    if reason:
        raise Forbidden(reason, required_scopes=["reports:read"])
    filters: dict[str, Any] = {
        "status": status,
        "category": category,
        "ward_code": ward_code,
        "neighbourhood_id": neighbourhood_id,
        "assigned_to": assigned_to,
        "since": since,
        "until": until,
    }
    shape, values = _visibility(principal)
    rows, next_cursor = await fetch_prepared_page(
        session, partial(_listing, shape), REPORTS, page, codec, filters, values
    )
    return [present(principal, row) for row in rows], next_cursor


async def get_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    """One report in scope (404 outside it)."""
    reason = can_read_reports(principal)
    if reason:
        raise Forbidden(reason, required_scopes=["reports:read"])
    report = (
        await session.exec(
            select_model(Report).where(col(Report.id) == report_id, _visible(principal))
        )
    ).first()
    if report is None:
        raise NotFound(f"No report has the id {report_id}.")
    return report


async def read_report(
    session: AsyncSession, principal: Principal, report_id: uuid.UUID
) -> dict[str, Any]:
    """One report in scope as ``principal`` may see it, from its columns (404 outside it)."""
    reason = can_read_reports(principal)
    if reason:
        raise Forbidden(reason, required_scopes=["reports:read"])
    shape, values = _visibility(principal)
    row = await _by_id(shape).row(session, {**values, "report_id": report_id})
    if row is None:
        raise NotFound(f"No report has the id {report_id}.")
    return present(principal, row)


_FILTERS: dict[str, ColumnElement[bool]] = {
    "status": col(Report.status) == bindparam("status"),
    "category": col(Report.category) == bindparam("category"),
    "ward_code": col(Report.ward_code) == bindparam("ward_code"),
    "neighbourhood_id": col(Report.neighbourhood_id) == bindparam("neighbourhood_id"),
    "assigned_to": col(Report.assigned_to) == bindparam("assigned_to"),
    "since": col(Report.created_at) >= bindparam("since"),
    "until": col(Report.created_at) < bindparam("until"),
}


@cache
def _listing(shape: str, filters: frozenset[str], after: bool) -> Prepared[Select[Any]]:
    """A page of reports for a visibility shape, the filters given and a cursor or not:
    built once per combination (a few dozen in use)."""
    statement = REPORT_SELECT.where(_VISIBLE[shape])
    for name in sorted(filters):
        statement = statement.where(_FILTERS[name])
    return prepared_page(statement, REPORTS, after)


@cache
def _by_id(shape: str) -> Prepared[Select[Any]]:
    """One report by id, for a visibility shape: built once per shape."""
    return Prepared(REPORT_SELECT.where(col(Report.id) == bindparam("report_id"), _VISIBLE[shape]))


async def triageable(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    """A visible report the principal may triage (404 invisible, 403 not theirs to triage)."""
    report = await get_report(session, principal, report_id)
    reason = can_triage(principal, report)
    if reason:
        raise Forbidden(reason)
    return report


async def ensure_ward_officer(session: AsyncSession, ward_code: str, user_id: uuid.UUID) -> None:
    """422 unless ``user_id`` is an active ward officer of ``ward_code``."""
    row = await fetch_row(
        session,
        select(col(User.id)).where(
            col(User.id) == user_id,
            col(User.role) == Role.WARD_OFFICER.value,
            col(User.ward_code) == ward_code,
            col(User.is_active).is_(True),
            col(User.deleted_at).is_(None),
        ),
    )
    if row is None:
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
    await compare_and_set(session, report, expected_version, changes)
    session.add(
        ReportUpdate(
            report_id=report.id,
            province_code=report.province_code,
            ward_code=report.ward_code,
            kind="triage",
            to_status=report.status,
            public=False,
            author_id=principal.subject,
            assigned_to=report.assigned_to,
            priority=changes.get("priority"),
        )
    )
    audit_service.record(
        session,
        principal,
        "update",
        "report",
        report.id,
        province_code=report.province_code,
        ward_code=report.ward_code,
        changed_fields=changes,
    )
    return report


async def track(session: AsyncSession, tracking_code: str) -> tuple[Report, Sequence[Any]]:
    """The report a tracking code names, with its public updates (oldest first)."""
    report = (
        await session.exec(
            select_model(Report).where(
                col(Report.tracking_code_hash) == hash_secret(tracking_code),
                col(Report.deleted_at).is_(None),
            )
        )
    ).first()
    if report is None:
        raise NotFound("No report has this tracking code.")
    updates = await fetch_rows(
        session,
        select(
            *columns(
                ReportUpdate.created_at,
                ReportUpdate.kind,
                ReportUpdate.to_status,
                ReportUpdate.note,
            )
        )
        .where(col(ReportUpdate.report_id) == report.id, col(ReportUpdate.public).is_(True))
        .order_by(col(ReportUpdate.created_at), col(ReportUpdate.id)),
    )
    return report, updates


def reporting_principal(principal: Principal | None) -> Principal | None:
    """The principal allowed to file reports: a token must carry reports:create."""
    if principal is not None and "reports:create" not in principal.scopes:
        raise Forbidden(
            "Filing a report with a token needs the scope reports:create; "
            "send no token to report anonymously.",
            required_scopes=["reports:create"],
        )
    return principal
