"""Safe-zone certifications (khu dân cư an toàn về ANTT), their history and certificate series."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field

from app.db import UTCDateTime, uuid7
from app.models.base import Record, Timestamped


class CertificationStatus(StrEnum):
    """Where a neighbourhood's certification for one year stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    REVOKED = "revoked"


class Transition(StrEnum):
    """The steps of the workflow, each a ``POST .../{id}/<step>``."""

    SUBMIT = "submit"
    REVIEW = "review"
    DECIDE = "decide"
    REVOKE = "revoke"


# The state machine: each step, the status it starts from and where it may lead.
TRANSITIONS: dict[Transition, tuple[CertificationStatus, tuple[CertificationStatus, ...]]] = {
    Transition.SUBMIT: (CertificationStatus.DRAFT, (CertificationStatus.SUBMITTED,)),
    Transition.REVIEW: (CertificationStatus.SUBMITTED, (CertificationStatus.UNDER_REVIEW,)),
    Transition.DECIDE: (
        CertificationStatus.UNDER_REVIEW,
        (CertificationStatus.CERTIFIED, CertificationStatus.REJECTED),
    ),
    Transition.REVOKE: (CertificationStatus.CERTIFIED, (CertificationStatus.REVOKED,)),
}


def allowed_transitions(status: str) -> list[str]:
    """The steps that may be taken from ``status``, in workflow order."""
    return [step.value for step, (source, _) in TRANSITIONS.items() if source == status]


class Certification(Record, table=True):
    """One neighbourhood's registration for one year, and everything that followed it."""

    __tablename__ = "certifications"
    __table_args__ = (
        # One live certification per neighbourhood and year, whatever races the service.
        Index(
            "uq_certifications_neighbourhood_id_year",
            "neighbourhood_id",
            "year",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("uq_certifications_certificate_no", "certificate_no", unique=True),
        Index("ix_certifications_ward_code_created_at_id", "ward_code", "created_at", "id"),
        Index("ix_certifications_created_at_id", "created_at", "id"),
        # The statistics: certified areas by unit and year.
        Index("ix_certifications_status_year", "status", "year"),
        CheckConstraint(
            "status IN (" + ", ".join(repr(s.value) for s in CertificationStatus) + ")",
            name="status",
        ),
        CheckConstraint(
            "households_committed >= 0 AND households_committed <= households_total",
            name="households",
        ),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID = Field(foreign_key="neighbourhoods.id", index=True)
    year: int = Field(index=True)
    criteria_set_id: uuid.UUID = Field(foreign_key="certification_criteria_sets.id", index=True)
    # Indexed by ix_certifications_status_year.
    status: str = Field(default=CertificationStatus.DRAFT.value, max_length=16)

    # Registration (đăng ký xây dựng khu dân cư an toàn về ANTT).
    registered_on: date
    resolution_no: str | None = Field(default=None, max_length=64)
    households_committed: int = Field(default=0)
    households_total: int = Field(default=0)
    # [{"code", "value" | "score", "evidence"}], one per criterion assessed.
    self_assessment: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # The ward's review: [{"code", "value" | "score", "note"}] and the pass rule's verdict.
    review_criteria: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    review_total_score: int | None = Field(default=None)
    review_passed: bool | None = Field(default=None)
    review_unmet: list[str] | None = Field(default=None, sa_type=JSON)
    reviewed_by: uuid.UUID | None = Field(default=None)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # The decision (the ward chairman's, recorded by the ward officer).
    decision_outcome: str | None = Field(default=None, max_length=16)
    certificate_no: str | None = Field(default=None, max_length=32)
    decision_no: str | None = Field(default=None, max_length=64)
    decided_on: date | None = Field(default=None)
    decided_by: uuid.UUID | None = Field(default=None)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reasons: list[str] | None = Field(default=None, sa_type=JSON)
    override_reason: str | None = Field(default=None, max_length=2000)

    # Revocation of a certificate.
    revocation_reason: str | None = Field(default=None, max_length=2000)
    revoked_on: date | None = Field(default=None)
    revoked_by: uuid.UUID | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CertificationEvent(Timestamped, table=True):
    """One step of a certification's workflow: who, in what role, when, from, to, and why.

    Appended in the same transaction as the step; never changed."""

    __tablename__ = "certification_events"
    __table_args__ = (
        Index(
            "ix_certification_events_certification_id_created_at_id",
            "certification_id",
            "created_at",
            "id",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    # Indexed by the history's keyset index, which leads with it.
    certification_id: uuid.UUID = Field(foreign_key="certifications.id")
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    # Who: an id and a role, as in the audit trail (never a name).
    actor_id: uuid.UUID | None = Field(default=None)
    actor_kind: str = Field(max_length=16)
    actor_role: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=2000)


class CertificateCounter(Timestamped, table=True):
    """The last certificate number issued per ward and year (``ANTT-2025-06688-0007``).

    Incremented with one atomic upsert, so concurrent decisions never share a number."""

    __tablename__ = "certificate_counters"
    __table_args__ = (UniqueConstraint("ward_code", "year"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5)
    year: int
    last_no: int = Field(default=0)


__all__ = [
    "TRANSITIONS",
    "CertificateCounter",
    "Certification",
    "CertificationEvent",
    "CertificationStatus",
    "Transition",
    "allowed_transitions",
]
