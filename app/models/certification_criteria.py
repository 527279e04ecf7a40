"""Criteria sets for safe-zone certification: data, versioned per year, never code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field

from app.models.base import Record


class CriteriaSet(Record, table=True):
    """The criteria a year's certifications are assessed against (Circular 124/2021/TT-BCA).

    ``set_version`` numbers the sets of one year (1, 2, ...); the record's own
    ``version`` is the optimistic-concurrency counter every record carries.
    National reference data: no province or ward."""

    __tablename__ = "certification_criteria_sets"
    __table_args__ = (
        Index(
            "uq_certification_criteria_sets_year_set_version",
            "year",
            "set_version",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    year: int = Field(index=True)
    set_version: int
    name: str = Field(max_length=200)
    legal_basis: str | None = Field(default=None, max_length=200)
    # [{"code", "title", "description", "kind", "max_score", "pass_score", "required"}]
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # {"min_total": int}
    pass_rule: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Set, atomically, when the first certification is registered against the set;
    # from then on the set is frozen (a change would rewrite assessments made under it).
    in_use: bool = Field(default=False)


__all__ = ["CriteriaSet"]
