"""Request and response bodies for certification criteria sets."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from app.schemas.common import InputModel, MultilineText, RecordRead, Text

CriterionCode = Annotated[
    str,
    Text(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$"),
    Field(description="Unique inside its set.", examples=["TC4"]),
]
SetName = Annotated[str, Text(min_length=1, max_length=200)]
LegalBasis = Annotated[str, Text(max_length=200)]
Year = Annotated[int, Field(ge=2000, le=2100, examples=[2025])]
Score = Annotated[int, Field(ge=0, le=1000)]


class CriterionKind(StrEnum):
    """How a criterion is assessed: met or not, or a score out of ``max_score``."""

    BOOLEAN = "boolean"
    SCORE = "score"


class Criterion(InputModel):
    """One criterion of a set."""

    code: CriterionCode
    title: Annotated[str, Text(min_length=1, max_length=500)] = Field(
        examples=["Kiềm chế, làm giảm tội phạm, tệ nạn xã hội so với năm trước"],
    )
    description: Annotated[str, MultilineText(max_length=2000)] | None = Field(
        default=None, description="What evidence the assessor looks for."
    )
    kind: CriterionKind = Field(examples=["score"])
    max_score: Score | None = Field(
        default=None, examples=[40], description="Score criteria only: the highest score (≥ 1)."
    )
    pass_score: Score | None = Field(
        default=None,
        examples=[20],
        description=(
            "Score criteria only: the least score at which the criterion counts as met. "
            "Without it, any score meets it."
        ),
    )
    required: bool = Field(
        default=True, description="Must be self-assessed before submission and met to pass."
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> Criterion:
        if self.kind is CriterionKind.SCORE:
            if not self.max_score:
                raise ValueError(f"score criterion {self.code} needs a max_score of at least 1")
            if self.pass_score is not None and self.pass_score > self.max_score:
                raise ValueError(f"criterion {self.code}: pass_score is above max_score")
        elif self.max_score is not None or self.pass_score is not None:
            raise ValueError(f"boolean criterion {self.code} takes no max_score or pass_score")
        return self


class PassRule(InputModel):
    """When a review passes: every required criterion met, and the total score at least this."""

    min_total: Score = Field(default=0, examples=[70])


Criteria = Annotated[list[Criterion], Field(min_length=1, max_length=100)]


def check_criteria(criteria: list[Criterion], pass_rule: PassRule) -> None:
    """Codes unique; ``min_total`` reachable. Raises ``ValueError`` naming the problem."""
    counts = Counter(criterion.code for criterion in criteria)
    duplicates = sorted(code for code, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"criterion codes must be unique in a set: {', '.join(duplicates)}")
    max_total = sum(c.max_score or 0 for c in criteria)
    if pass_rule.min_total > max_total:
        raise ValueError(
            f"pass_rule.min_total {pass_rule.min_total} is above the highest total {max_total}"
        )


class CriteriaSetCreate(InputModel):
    """A new criteria set; it becomes the next ``set_version`` of its year."""

    year: Year
    name: SetName = Field(
        examples=["Tiêu chuẩn khu dân cư an toàn về ANTT năm 2025"],
    )
    legal_basis: LegalBasis | None = Field(default=None, examples=["Thông tư 124/2021/TT-BCA"])
    criteria: Criteria
    pass_rule: PassRule = Field(default_factory=PassRule)

    @model_validator(mode="after")
    def _consistent(self) -> CriteriaSetCreate:
        check_criteria(self.criteria, self.pass_rule)
        return self


class CriteriaSetUpdate(InputModel):
    """Changes to a set no certification uses yet; send only what changes."""

    name: SetName | None = None
    legal_basis: LegalBasis | None = None
    criteria: Criteria | None = None
    pass_rule: PassRule | None = None


class CriteriaSetRead(RecordRead):
    """A criteria set as published."""

    year: int = Field(examples=[2025])
    set_version: int = Field(
        examples=[1],
        description="Which set of its year (1, 2, ...); `version` is the record's ETag version.",
    )
    name: str = Field(examples=["Tiêu chuẩn khu dân cư an toàn về ANTT năm 2025"])
    legal_basis: str | None = Field(examples=["Thông tư 124/2021/TT-BCA"])
    criteria: list[Criterion]
    pass_rule: PassRule
    max_total: int = Field(examples=[100], description="The highest total score possible.")
    in_use: bool = Field(
        description="A certification uses this set: it can no longer be changed or deleted."
    )

    @classmethod
    def of(cls, record: Any) -> CriteriaSetRead:
        """Build from an ORM object or a selected row."""
        return cls(
            id=record.id,
            created_at=record.created_at,
            updated_at=record.updated_at,
            version=record.version,
            year=record.year,
            set_version=record.set_version,
            name=record.name,
            legal_basis=record.legal_basis,
            criteria=record.criteria,
            pass_rule=record.pass_rule,
            max_total=sum(c.get("max_score") or 0 for c in record.criteria),
            in_use=record.in_use,
        )
