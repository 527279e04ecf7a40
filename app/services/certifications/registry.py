"""Safe-zone certifications: the records in scope, registration, drafts, history.

Who sees and does what is in ``policies``; the workflow steps
(submit, review, decide, revoke) are in ``workflow``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.uniqueness import taken
from app.data.visibility import Visible, by_unit
from app.data.writes import UnitOfWrite
from app.db import columns, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.certifications import (
    Certification,
    CertificationEvent,
    CertificationStatus,
    allowed_transitions,
)
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.certifications import CertificationCreate, CertificationUpdate
from app.security import Principal
from app.services.certifications import criteria as criteria_service
from app.services.certifications import policies as policies
from app.services.neighbourhoods import NEIGHBOURHOODS


def _through_the_certification(principal: Principal) -> Visible:
    # A step is seen through its certification: list_history reads that first
    # (404 when invisible) and pages only its steps. (Steps carry no
    # neighbourhood, so the rule could not be written on them anyway.)
    return Visible.all()


CERTIFICATIONS = Repository(
    Certification,
    noun="certification",
    # Every column: the list answers whole records (review, decision and all).
    columns=[getattr(Certification, name) for name in Certification.model_fields],
    visible=by_unit,
    keyset=Keyset("certifications", columns(Certification.created_at, Certification.id)),
    filters={
        "year": Certification.year,
        "status": Certification.status,
        "ward_code": Certification.ward_code,
        "neighbourhood_id": Certification.neighbourhood_id,
        "criteria_set_id": Certification.criteria_set_id,
    },
    writes=UnitOfWrite("certification", parts=[CertificationEvent]),
)
CERTIFICATION_HISTORY = Repository(
    CertificationEvent,
    noun="certification step",
    columns=(
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
    ),
    visible=_through_the_certification,
    keyset=Keyset(
        "certification-history", columns(CertificationEvent.created_at, CertificationEvent.id)
    ),
    filters={"certification_id": CertificationEvent.certification_id},
)


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
    return await CERTIFICATIONS.page(
        session,
        principal,
        page,
        codec,
        year=year,
        status=status.value if status else None,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        criteria_set_id=criteria_set_id,
    )


async def get_certification(
    session: AsyncSession, principal: Principal, certification_id: uuid.UUID
) -> Any:
    """One certification in scope, as a row (404 outside it)."""
    return await CERTIFICATIONS.get(session, principal, certification_id)


async def get_certification_for_update(
    session: AsyncSession, principal: Principal, certification_id: uuid.UUID
) -> Certification:
    """One certification in scope, as the record to change (404 outside it)."""
    return await CERTIFICATIONS.get_for_update(session, principal, certification_id)


async def list_history(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
) -> tuple[Sequence[Any], str | None]:
    """Every step of one certification, oldest first."""
    await get_certification(session, principal, certification_id)
    return await CERTIFICATION_HISTORY.page(
        session, principal, page, codec, certification_id=certification_id
    )


def history_step(
    principal: Principal | None,
    certification: Certification,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> CertificationEvent:
    """One step of the certification's history, written with the step's own write."""
    return CertificationEvent(
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
) -> Any:
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
    neighbourhood = await NEIGHBOURHOODS.find(session, None, data.neighbourhood_id)
    if neighbourhood is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"No neighbourhood has the id {data.neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )
    reason = policies.can_register(principal, data.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    existing = await taken(
        CERTIFICATIONS, session, neighbourhood_id=data.neighbourhood_id, year=data.year
    )
    if existing is not None:
        raise Conflict(
            f"The neighbourhood is already registered for {data.year}.",
            certification_id=str(existing.id),
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
    await CERTIFICATIONS.insert(
        session,
        principal,
        certification,
        fields=data.model_fields_set | {"neighbourhood_id", "year", "criteria_set_id"},
        parts=[history_step(principal, certification, "register", None, "draft", None)],
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
    certification = await get_certification_for_update(session, principal, certification_id)
    reason = policies.can_edit(principal, certification)
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
    return await CERTIFICATIONS.update(
        session, principal, certification, expected_version, changes, fields=changes
    )


async def delete_certification(
    session: AsyncSession, principal: Principal, certification_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a draft registration (the neighbourhood may register again that year)."""
    certification = await get_certification_for_update(session, principal, certification_id)
    reason = policies.can_edit(principal, certification)
    if reason:
        raise Forbidden(reason)
    if certification.status != CertificationStatus.DRAFT:
        raise not_draft(certification, "deleted")
    await CERTIFICATIONS.delete(session, principal, certification, expected_version)
