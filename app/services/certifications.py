"""Safe-zone certifications: who sees and edits which, registration, drafts, history, counts.

The workflow steps (submit, review, decide, revoke) are in ``certification_workflow``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import (
    Certification,
    CertificationEvent,
    CertificationStatus,
    allowed_transitions,
)
from app.models.units import Neighbourhood
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.certifications import CertificationCreate, CertificationUpdate
from app.security import Principal, Role
from app.services import audit as audit_service
from app.services import certification_criteria as criteria_service

CERTIFICATIONS = Keyset("certifications", columns(Certification.created_at, Certification.id))
HISTORY = Keyset(
    "certification-history", columns(CertificationEvent.created_at, CertificationEvent.id)
)
# Every column: the list answers whole records (review, decision and all).
_COLUMNS = columns(*(getattr(Certification, name) for name in Certification.model_fields))
_EVENT_COLUMNS = columns(
    CertificationEvent.id,
    CertificationEvent.certification_id,
    CertificationEvent.action,
    CertificationEvent.from_status,
    CertificationEvent.to_status,
    CertificationEvent.actor_id,
    CertificationEvent.actor_kind,
    CertificationEvent.actor_role,
    CertificationEvent.note,
    CertificationEvent.created_at,
)


# --- who sees and does what ---------------------------------------------------------


def visible(principal: Principal) -> ColumnElement[bool]:
    """The certifications ``principal`` may see (deleted ones never); default deny."""
    live = col(Certification.deleted_at).is_(None)
    role = principal.role
    if role is Role.ADMIN:
        return live
    if role is Role.PROVINCE_OFFICER and principal.province_code:
        return live & (col(Certification.province_code) == principal.province_code)
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return live & (col(Certification.ward_code) == principal.ward_code)
    if role is Role.WARD_SYSTEM and principal.province_code:
        return live & (col(Certification.province_code) == principal.province_code)
    if role in (Role.NEIGHBOURHOOD_HEAD, Role.GROUP_LEADER) and principal.neighbourhood_id:
        return live & (col(Certification.neighbourhood_id) == principal.neighbourhood_id)
    return false()


def can_register(principal: Principal, neighbourhood_id: uuid.UUID) -> str | None:
    """Why ``principal`` may not register ``neighbourhood_id`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.NEIGHBOURHOOD_HEAD and principal.neighbourhood_id == neighbourhood_id:
        return None
    return "A neighbourhood head registers only their own neighbourhood."


def can_edit(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not edit, delete or submit this draft (None: it may)."""
    return can_register(principal, certification.neighbourhood_id)


def can_review(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not review or decide this certification (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == certification.ward_code:
        return None
    return "Only officers of the ward review and decide its certifications."


def can_revoke(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not revoke this certificate (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == certification.ward_code:
        return None
    if (
        principal.role is Role.PROVINCE_OFFICER
        and principal.province_code == certification.province_code
    ):
        return None
    return "Only officers of the ward or the province revoke its certificates."


# --- reads --------------------------------------------------------------------------


async def list_certifications(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    year: int | None = None,
    status: CertificationStatus | None = None,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    criteria_set_id: uuid.UUID | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Certifications in the principal's scope, oldest registration first."""
    statement = select(*_COLUMNS).where(visible(principal))
    if year is not None:
        statement = statement.where(col(Certification.year) == year)
    if status is not None:
        statement = statement.where(col(Certification.status) == status.value)
    if ward_code:
        statement = statement.where(col(Certification.ward_code) == ward_code)
    if neighbourhood_id:
        statement = statement.where(col(Certification.neighbourhood_id) == neighbourhood_id)
    if criteria_set_id:
        statement = statement.where(col(Certification.criteria_set_id) == criteria_set_id)
    filters = {
        "year": year,
        "status": status.value if status else None,
        "ward_code": ward_code,
        "neighbourhood_id": neighbourhood_id,
        "criteria_set_id": criteria_set_id,
    }
    return await fetch_page(session, statement, CERTIFICATIONS, page, codec, filters)


async def get_certification(
    session: AsyncSession, principal: Principal, certification_id: uuid.UUID
) -> Certification:
    """One certification in scope (404 outside it)."""
    found = (
        await session.exec(
            select_model(Certification).where(
                col(Certification.id) == certification_id, visible(principal)
            )
        )
    ).first()
    if found is None:
        raise NotFound(f"No certification has the id {certification_id}.")
    return found


async def list_history(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
) -> tuple[Sequence[Any], str | None]:
    """Every step of one certification, oldest first."""
    await get_certification(session, principal, certification_id)
    statement = select(*_EVENT_COLUMNS).where(
        col(CertificationEvent.certification_id) == certification_id
    )
    filters = {"certification_id": certification_id}
    return await fetch_page(session, statement, HISTORY, page, codec, filters)


def record_event(
    session: AsyncSession,
    principal: Principal | None,
    certification: Certification,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> CertificationEvent:
    """Append one step to the certification's history (it commits with the step)."""
    event = CertificationEvent(
        certification_id=certification.id,
        province_code=certification.province_code,
        ward_code=certification.ward_code,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_id=principal.subject if principal else None,
        actor_kind=principal.kind if principal else "system",
        actor_role=principal.role.value if principal else None,
        note=note or None,
    )
    session.add(event)
    return event


# --- registration and drafts ----------------------------------------------------------


def not_draft(certification: Certification, doing: str) -> Conflict:
    """The 409 for changing a certification that has left the draft stage."""
    return Conflict(
        f"Only a draft can be {doing}; this certification is {certification.status}.",
        current_status=certification.status,
        allowed=allowed_transitions(certification.status),
    )


async def _criteria_set_for(
    session: AsyncSession, year: int, criteria_set_id: uuid.UUID | None
) -> CriteriaSet:
    if criteria_set_id is None:
        latest = await criteria_service.latest_set(session, year)
        if latest is None:
            raise ValidationFailed.field(
                ("body", "criteria_set_id"),
                f"No criteria set is published for {year}.",
                FieldErrorType.NOT_FOUND,
            )
        return latest
    try:
        criteria_set = await criteria_service.get_set(session, criteria_set_id)
    except NotFound:
        raise ValidationFailed.field(
            ("body", "criteria_set_id"),
            f"No criteria set has the id {criteria_set_id}.",
            FieldErrorType.NOT_FOUND,
        ) from None
    if criteria_set.year != year:
        raise ValidationFailed.field(
            ("body", "criteria_set_id"), f"The criteria set is for {criteria_set.year}, not {year}."
        )
    return criteria_set


def _check_households(committed: int, total: int) -> None:
    if committed > total:
        raise ValidationFailed.field(
            ("body", "households_committed"),
            f"households_committed ({committed}) cannot exceed households_total ({total}).",
            FieldErrorType.LESS_THAN_EQUAL,
        )


def _findings(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", exclude_none=True) for item in items]


async def create_certification(
    session: AsyncSession, principal: Principal, data: CertificationCreate
) -> Certification:
    """Register a neighbourhood for a year: a draft, assessed against that year's set."""
    neighbourhood = await fetch_row(
        session,
        select(
            *columns(Neighbourhood.province_code, Neighbourhood.ward_code, Neighbourhood.households)
        ).where(
            col(Neighbourhood.id) == data.neighbourhood_id,
            col(Neighbourhood.deleted_at).is_(None),
        ),
    )
    if neighbourhood is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"No neighbourhood has the id {data.neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )
    reason = can_register(principal, data.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    existing = await fetch_row(
        session,
        select(col(Certification.id)).where(
            col(Certification.neighbourhood_id) == data.neighbourhood_id,
            col(Certification.year) == data.year,
            col(Certification.deleted_at).is_(None),
        ),
    )
    if existing is not None:
        raise Conflict(
            f"The neighbourhood is already registered for {data.year}.",
            certification_id=str(existing[0]),
        )
    criteria_set = await _criteria_set_for(session, data.year, data.criteria_set_id)
    households_total = (
        data.households_total if data.households_total is not None else neighbourhood.households
    )
    _check_households(data.households_committed, households_total)
    self_assessment = _findings(data.self_assessment)
    criteria_service.check_findings(criteria_set, self_assessment, "self_assessment")
    await criteria_service.mark_in_use(session, criteria_set.id)
    certification = Certification(
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        neighbourhood_id=data.neighbourhood_id,
        year=data.year,
        criteria_set_id=criteria_set.id,
        status=CertificationStatus.DRAFT.value,
        registered_on=data.registered_on or utcnow().date(),
        resolution_no=data.resolution_no,
        households_committed=data.households_committed,
        households_total=households_total,
        self_assessment=self_assessment,
    )
    session.add(certification)
    await session.flush()
    record_event(session, principal, certification, "register", None, "draft", None)
    audit_service.record(
        session,
        principal,
        "create",
        "certification",
        certification.id,
        province_code=certification.province_code,
        ward_code=certification.ward_code,
        changed_fields=data.model_fields_set | {"neighbourhood_id", "year", "criteria_set_id"},
    )
    return certification


_NOT_NULL = (
    "criteria_set_id",
    "registered_on",
    "households_total",
    "households_committed",
    "self_assessment",
)


async def update_certification(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    expected_version: int,
    data: CertificationUpdate,
) -> Certification:
    """Change a draft's registration or self-assessment, if still at ``expected_version``."""
    certification = await get_certification(session, principal, certification_id)
    reason = can_edit(principal, certification)
    if reason:
        raise Forbidden(reason)
    if certification.status != CertificationStatus.DRAFT:
        raise not_draft(certification, "edited")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(name for name in _NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if data.self_assessment is not None:
        changes["self_assessment"] = _findings(data.self_assessment)
    _check_households(
        changes.get("households_committed", certification.households_committed),
        changes.get("households_total", certification.households_total),
    )
    new_set = data.criteria_set_id is not None and data.criteria_set_id != (
        certification.criteria_set_id
    )
    if new_set or "self_assessment" in changes:
        criteria_set = await _criteria_set_for(
            session, certification.year, data.criteria_set_id or certification.criteria_set_id
        )
        criteria_service.check_findings(
            criteria_set,
            changes.get("self_assessment", certification.self_assessment),
            "self_assessment",
        )
        if new_set:
            await criteria_service.mark_in_use(session, criteria_set.id)
    await compare_and_set(session, certification, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "certification",
        certification.id,
        province_code=certification.province_code,
        ward_code=certification.ward_code,
        changed_fields=changes,
    )
    return certification


async def delete_certification(
    session: AsyncSession, principal: Principal, certification_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a draft registration (the neighbourhood may register again that year)."""
    certification = await get_certification(session, principal, certification_id)
    reason = can_edit(principal, certification)
    if reason:
        raise Forbidden(reason)
    if certification.status != CertificationStatus.DRAFT:
        raise not_draft(certification, "deleted")
    await compare_and_set(session, certification, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "certification",
        certification.id,
        province_code=certification.province_code,
        ward_code=certification.ward_code,
    )
