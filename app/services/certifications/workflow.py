"""The certification workflow: submit, review, decide, revoke; each step one compare-and-set.

draft → submitted → under_review → certified | rejected; certified → revoked. A step
from any other status is a 409 naming the current status and the steps allowed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import Bookkeeping
from app.db import utcnow, uuid7
from app.errors import (
    Conflict,
    FieldErrorType,
    Forbidden,
    InvalidTransition,
    PreconditionFailed,
    ValidationFailed,
)
from app.models.certifications import (
    TRANSITIONS,
    CertificateCounter,
    Certification,
    CertificationStatus,
    Transition,
    allowed_transitions,
)
from app.schemas.certifications import DecideBody, Outcome, ReviewBody, RevokeBody, SubmitBody
from app.security import Principal
from app.services.certifications import criteria as criteria_service
from app.services.certifications import policies as policies
from app.services.certifications import registry as certification_service

# The certificate numbers handed out per ward and year: the service's bookkeeping.
_COUNTERS = Bookkeeping(CertificateCounter)

Policy = Callable[[Principal, Certification], str | None]


def refused(step: Transition, status: str) -> InvalidTransition:
    """The 409 for a step the current status does not allow."""
    allowed = allowed_transitions(status)
    then = f"the steps allowed now: {', '.join(allowed)}" if allowed else "no step is left"
    return InvalidTransition(
        f"Cannot {step.value} a certification that is {status}; {then}.",
        current_status=status,
        allowed=allowed,
    )


async def _load(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    step: Transition,
    policy: Policy,
    expected_version: int | None,
) -> Certification:
    certification = await certification_service.get_certification_for_update(
        session, principal, certification_id
    )
    reason = policy(principal, certification)
    if reason:
        raise Forbidden(reason)
    source, _ = TRANSITIONS[step]
    if certification.status != source:
        raise refused(step, certification.status)
    if expected_version is not None and certification.version != expected_version:
        raise PreconditionFailed(
            f"The record is at version {certification.version}, not {expected_version}; "
            "read it again."
        )
    return certification


async def _criteria_set(session: AsyncSession, certification: Certification) -> Any:
    # A set in use is frozen and cannot be deleted, so it is always there.
    return await criteria_service.get_set(session, certification.criteria_set_id)


async def _move(
    session: AsyncSession,
    principal: Principal,
    certification: Certification,
    step: Transition,
    to_status: CertificationStatus,
    values: dict[str, Any],
    note: str | None,
) -> Certification:
    """Take the step if the row is still where it was read: of concurrent callers one wins.

    The compare-and-set on ``version`` also holds the status (every write moves
    the version on); a loser learns the status it lost to, as a 409."""
    from_status = certification.status
    try:
        await certification_service.CERTIFICATIONS.update(
            session,
            principal,
            certification,
            certification.version,
            {**values, "status": to_status.value},
            fields={"status", *values},
            action=step.value,
            parts=[
                certification_service.history_step(
                    principal, certification, step.value, from_status, to_status.value, note
                )
            ],
        )
    except PreconditionFailed:
        current = await certification_service.CERTIFICATIONS.find(
            session, principal, certification.id
        )
        now = from_status if current is None else current.status
        if now != from_status:
            raise refused(step, now) from None
        raise Conflict(
            "The certification changed meanwhile; read it again and retry.",
            current_status=now,
            allowed=allowed_transitions(now),
        ) from None
    return certification


async def submit(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    body: SubmitBody,
    expected_version: int | None = None,
) -> Certification:
    """draft → submitted: needs every household committed and every required criterion assessed."""
    certification = await _load(
        session,
        principal,
        certification_id,
        Transition.SUBMIT,
        policies.can_edit,
        expected_version,
    )
    criteria_set = await _criteria_set(session, certification)
    problems: list[str] = []
    extensions: dict[str, Any] = {}
    total, committed = certification.households_total, certification.households_committed
    if total == 0:
        problems.append("households_total is 0: record how many households the area has")
        extensions["households_shortfall"] = 0
    elif committed < total:
        problems.append(
            f"{total - committed} of {total} households have not signed the commitment "
            f"({committed} committed; 100% is needed)"
        )
        extensions["households_shortfall"] = total - committed
    missing = criteria_service.missing_required(criteria_set, certification.self_assessment)
    if missing:
        problems.append(f"required criteria not self-assessed: {', '.join(missing)}")
        extensions["missing_criteria"] = missing
    if problems:
        raise ValidationFailed("Cannot submit: " + "; ".join(problems) + ".", **extensions)
    return await _move(
        session,
        principal,
        certification,
        Transition.SUBMIT,
        CertificationStatus.SUBMITTED,
        {"submitted_at": utcnow()},
        body.note,
    )


async def review(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    body: ReviewBody,
    expected_version: int | None = None,
) -> Certification:
    """submitted → under_review: the officer's finding on every criterion, and the verdict."""
    certification = await _load(
        session,
        principal,
        certification_id,
        Transition.REVIEW,
        policies.can_review,
        expected_version,
    )
    criteria_set = await _criteria_set(session, certification)
    findings = [item.model_dump(mode="json", exclude_none=True) for item in body.criteria]
    criteria_service.check_findings(criteria_set, findings, "criteria")
    given = {item["code"] for item in findings}
    missing = [c for c in criteria_service.criterion_codes(criteria_set) if c not in given]
    if missing:
        raise ValidationFailed.field(
            ("body", "criteria"),
            f"A review covers every criterion of the set; missing: {', '.join(missing)}.",
            missing_criteria=missing,
        )
    verdict = criteria_service.evaluate(criteria_set, findings)
    values = {
        "review_criteria": findings,
        "review_total_score": verdict.total_score,
        "review_passed": verdict.passed,
        "review_unmet": verdict.unmet,
        "reviewed_by": principal.subject,
        "reviewed_at": utcnow(),
    }
    return await _move(
        session,
        principal,
        certification,
        Transition.REVIEW,
        CertificationStatus.UNDER_REVIEW,
        values,
        body.note,
    )


async def next_certificate_no(session: AsyncSession, ward_code: str, year: int) -> str:
    """The next certificate number of a ward and year, e.g. ``ANTT-2025-06688-0001``.

    One upsert that increments and returns the counter: the row lock it takes
    (PostgreSQL) or the write lock (SQLite) means no two decisions share a number;
    a decision that fails rolls its increment back."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(CertificateCounter)
        .values(
            id=uuid7(),
            ward_code=ward_code,
            year=year,
            last_no=1,
            created_at=now,
            updated_at=now,
            version=1,
        )
        .on_conflict_do_update(
            index_elements=["ward_code", "year"],
            set_={
                "last_no": col(CertificateCounter.last_no) + 1,
                "version": col(CertificateCounter.version) + 1,
                "updated_at": now,
            },
        )
        .returning(col(CertificateCounter.last_no))
    )
    result = await _COUNTERS.execute(session, statement)
    number: int = result.scalar_one()
    return format_certificate_no(year, ward_code, number)


def format_certificate_no(year: int, ward_code: str, number: int) -> str:
    """``ANTT-<year>-<ward code>-<number, 4 digits>``."""
    return f"ANTT-{year}-{ward_code}-{number:04d}"


async def decide(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    body: DecideBody,
    expected_version: int | None = None,
) -> Certification:
    """under_review → certified (with a certificate number) or rejected (with reasons).

    The outcome follows the pass rule on the review's findings unless
    ``override_reason`` says why not."""
    certification = await _load(
        session,
        principal,
        certification_id,
        Transition.DECIDE,
        policies.can_review,
        expected_version,
    )
    passed = bool(certification.review_passed)
    by_rule = Outcome.CERTIFIED if passed else Outcome.REJECTED
    if body.outcome is not by_rule and not body.override_reason:
        criteria_set = await _criteria_set(session, certification)
        verdict = criteria_service.evaluate(criteria_set, certification.review_criteria or [])
        raise ValidationFailed.field(
            ("body", "outcome"),
            f"The review {'passes' if passed else 'fails'} the pass rule ({verdict.explain()}), "
            f"so the outcome is {by_rule.value}; to decide {body.outcome.value} instead, "
            "give override_reason.",
            review_passed=passed,
            outcome_by_rule=by_rule.value,
        )
    if body.outcome is Outcome.REJECTED and not body.reasons:
        raise ValidationFailed.field(
            ("body", "reasons"), "A rejection needs reasons.", FieldErrorType.MISSING
        )
    values: dict[str, Any] = {
        "decision_outcome": body.outcome.value,
        "decision_no": body.decision_no,
        "decided_on": body.decided_on or utcnow().date(),
        "decided_by": principal.subject,
        "decided_at": utcnow(),
        "decision_reasons": list(body.reasons),
        "override_reason": body.override_reason,
    }
    if body.outcome is Outcome.CERTIFIED:
        values["certificate_no"] = await next_certificate_no(
            session, certification.ward_code, certification.year
        )
    return await _move(
        session,
        principal,
        certification,
        Transition.DECIDE,
        CertificationStatus(body.outcome.value),
        values,
        body.note,
    )


async def revoke(
    session: AsyncSession,
    principal: Principal,
    certification_id: uuid.UUID,
    body: RevokeBody,
    expected_version: int | None = None,
) -> Certification:
    """certified → revoked, with the reason (ward or province officers)."""
    certification = await _load(
        session,
        principal,
        certification_id,
        Transition.REVOKE,
        policies.can_revoke,
        expected_version,
    )
    revoked_on: date = body.revoked_on or utcnow().date()
    if certification.decided_on and revoked_on < certification.decided_on:
        raise ValidationFailed.field(
            ("body", "revoked_on"),
            f"revoked_on cannot be before the decision of {certification.decided_on}.",
            FieldErrorType.GREATER_THAN_EQUAL,
        )
    values = {
        "revocation_reason": body.reason,
        "revoked_on": revoked_on,
        "revoked_by": principal.subject,
        "revoked_at": utcnow(),
    }
    return await _move(
        session,
        principal,
        certification,
        Transition.REVOKE,
        CertificationStatus.REVOKED,
        values,
        body.note or body.reason,
    )
