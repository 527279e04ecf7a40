"""Request and response bodies for safe-zone certifications and their workflow."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from app.models.certifications import CertificationStatus, allowed_transitions
from app.schemas.certification_criteria import CriterionCode, Score, Year
from app.schemas.common import (
    Day,
    InputModel,
    MultilineText,
    ProvinceCode,
    ReadModel,
    RecordRead,
    Text,
    WardCode,
)

Note = Annotated[
    Annotated[str, MultilineText(max_length=2000)] | None,
    Field(description="Why, or anything the next person should know.", examples=["Đủ hồ sơ."]),
]
Households = Annotated[int, Field(ge=0, le=1_000_000)]
DocumentNo = Annotated[str, Text(min_length=1, max_length=64)]
Reason = Annotated[str, MultilineText(min_length=1, max_length=2000)]


class Outcome(StrEnum):
    """What the ward decided."""

    CERTIFIED = "certified"
    REJECTED = "rejected"


class _Assessed(InputModel):
    code: CriterionCode
    value: bool | None = Field(
        default=None, description="Boolean criteria: met or not.", examples=[True]
    )
    score: Score | None = Field(default=None, description="Score criteria: the score given.")

    @model_validator(mode="after")
    def _value_or_score(self) -> _Assessed:
        if (self.value is None) == (self.score is None):
            raise ValueError(f"criterion {self.code}: give either value or score")
        return self


class SelfAssessmentItem(_Assessed):
    """The neighbourhood's own assessment of one criterion."""

    evidence: Annotated[str, MultilineText(max_length=2000)] | None = Field(
        default=None,
        examples=["Biên bản họp dân ngày 12/01/2025; 512/512 hộ ký cam kết."],
    )


class ReviewItem(_Assessed):
    """The ward officer's finding on one criterion."""

    note: Annotated[str, MultilineText(max_length=2000)] | None = None


SelfAssessment = Annotated[list[SelfAssessmentItem], Field(max_length=100)]


class CertificationCreate(InputModel):
    """Register a neighbourhood for a year's certification (it starts as a draft)."""

    neighbourhood_id: uuid.UUID
    year: Year
    criteria_set_id: uuid.UUID | None = Field(
        default=None, description="Defaults to the latest criteria set of the year."
    )
    registered_on: Day | None = Field(default=None, description="Defaults to today.")
    resolution_no: DocumentNo | None = Field(
        default=None,
        examples=["01/NQ-KP1"],
        description="The residents' resolution to register.",
    )
    households_total: Households | None = Field(
        default=None, description="Defaults to the neighbourhood's households."
    )
    households_committed: Households = Field(
        default=0, description="Households that signed the commitment."
    )
    self_assessment: SelfAssessment = Field(default_factory=list)


class CertificationUpdate(InputModel):
    """Changes to a draft; send only what changes (`self_assessment` replaces the list)."""

    criteria_set_id: uuid.UUID | None = None
    registered_on: Day | None = None
    resolution_no: DocumentNo | None = None
    households_total: Households | None = None
    households_committed: Households | None = None
    self_assessment: SelfAssessment | None = None


class SubmitBody(InputModel):
    """Submit a draft to the ward."""

    note: Note = None


class ReviewBody(InputModel):
    """The ward officer's review: a finding on every criterion of the set."""

    criteria: Annotated[list[ReviewItem], Field(min_length=1, max_length=100)]
    note: Note = None


class DecideBody(InputModel):
    """The decision on a reviewed certification."""

    outcome: Outcome
    reasons: Annotated[list[Reason], Field(max_length=20)] = Field(
        default_factory=list,
        description="Required for `rejected`: why.",
        examples=[["Để xảy ra 01 vụ cố ý gây thương tích nghiêm trọng trong năm."]],
    )
    override_reason: Reason | None = Field(
        default=None,
        description="Needed when the outcome goes against the review's pass rule.",
    )
    decision_no: DocumentNo | None = Field(default=None, examples=["125/QĐ-UBND"])
    decided_on: Day | None = Field(default=None, description="Defaults to today.")
    note: Note = None


class RevokeBody(InputModel):
    """Revoke a certificate."""

    reason: Reason = Field(examples=["Phát hiện vụ việc nghiêm trọng bị che giấu khi đánh giá."])
    revoked_on: Day | None = Field(default=None, description="Defaults to today.")
    note: Note = None


class ReviewRead(ReadModel):
    """The ward's review and what the pass rule made of it."""

    criteria: list[ReviewItem]
    total_score: int = Field(examples=[78])
    passed: bool = Field(description="All required criteria met and the total reaches min_total.")
    unmet: list[str] = Field(examples=[[]], description="Required criteria not met.")
    reviewed_by: uuid.UUID
    reviewed_at: datetime


class DecisionRead(ReadModel):
    """The decision: certified with a certificate number, or rejected with reasons."""

    outcome: Outcome
    certificate_no: str | None = Field(examples=["ANTT-2025-06688-0001"])
    decision_no: str | None = Field(examples=["125/QĐ-UBND"])
    decided_on: date
    decided_by: uuid.UUID
    decided_at: datetime
    reasons: list[str]
    override_reason: str | None
    overridden: bool = Field(description="The outcome went against the review's pass rule.")


class RevocationRead(ReadModel):
    """Why and when a certificate was revoked."""

    reason: str
    revoked_on: date
    revoked_by: uuid.UUID
    revoked_at: datetime


class CertificationRead(RecordRead):
    """A neighbourhood's safe-zone certification for one year."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    year: int = Field(examples=[2025])
    criteria_set_id: uuid.UUID
    status: CertificationStatus
    allowed_transitions: list[str] = Field(
        examples=[["submit"]], description="The workflow steps possible from `status`."
    )
    registered_on: date
    resolution_no: str | None = Field(examples=["01/NQ-KP1"])
    households_committed: int = Field(examples=[512])
    households_total: int = Field(examples=[512])
    self_assessment: list[SelfAssessmentItem]
    submitted_at: datetime | None
    review: ReviewRead | None
    decision: DecisionRead | None
    revocation: RevocationRead | None

    @classmethod
    def of(cls, record: Any) -> CertificationRead:
        """Build from an ORM object or a selected row (both have the columns as attributes)."""
        review = decision = revocation = None
        if record.reviewed_at is not None:
            review = ReviewRead(
                criteria=record.review_criteria or [],
                total_score=record.review_total_score or 0,
                passed=bool(record.review_passed),
                unmet=record.review_unmet or [],
                reviewed_by=record.reviewed_by,
                reviewed_at=record.reviewed_at,
            )
        if record.decision_outcome is not None:
            outcome = Outcome(record.decision_outcome)
            decision = DecisionRead(
                outcome=outcome,
                certificate_no=record.certificate_no,
                decision_no=record.decision_no,
                decided_on=record.decided_on,
                decided_by=record.decided_by,
                decided_at=record.decided_at,
                reasons=record.decision_reasons or [],
                override_reason=record.override_reason,
                overridden=(outcome is Outcome.CERTIFIED) != bool(record.review_passed),
            )
        if record.revoked_at is not None:
            revocation = RevocationRead(
                reason=record.revocation_reason,
                revoked_on=record.revoked_on,
                revoked_by=record.revoked_by,
                revoked_at=record.revoked_at,
            )
        return cls(
            id=record.id,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
            province_code=record.province_code,
            ward_code=record.ward_code,
            neighbourhood_id=record.neighbourhood_id,
            year=record.year,
            criteria_set_id=record.criteria_set_id,
            status=CertificationStatus(record.status),
            allowed_transitions=allowed_transitions(record.status),
            registered_on=record.registered_on,
            resolution_no=record.resolution_no,
            households_committed=record.households_committed,
            households_total=record.households_total,
            self_assessment=record.self_assessment or [],
            submitted_at=record.submitted_at,
            review=review,
            decision=decision,
            revocation=revocation,
        )


class CertificationEventRead(ReadModel):
    """One step of a certification's history."""

    id: uuid.UUID
    certification_id: uuid.UUID
    action: str = Field(examples=["submit"], description="`register` or a workflow step.")
    from_status: CertificationStatus | None = Field(examples=["draft"])
    to_status: CertificationStatus = Field(examples=["submitted"])
    actor_id: uuid.UUID | None
    actor_kind: str = Field(examples=["user"])
    actor_role: str | None = Field(examples=["neighbourhood_head"])
    note: str | None = Field(examples=["Đã đủ 100% hộ ký cam kết."])
    created_at: datetime
