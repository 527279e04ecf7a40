"""A report's history: triage, transitions and notes."""

from __future__ import annotations

import uuid

from sqlalchemy import Index
from sqlmodel import Field

from app.models.base import Record

# What GET /reports/statistics reads besides the unit and created_at.


class ReportUpdate(Record, table=True):
    """One entry of a report's history: a transition, a note, or a change of assignment.

    Append-only. ``public`` entries are what the reporter (and the tracking
    code) see; the others stay with the officers."""

    __tablename__ = "report_updates"
    __table_args__ = (
        Index("ix_report_updates_report_id_created_at_id", "report_id", "created_at", "id"),
        Index("ix_report_updates_ward_code_created_at_id", "ward_code", "created_at", "id"),
    )

    report_id: uuid.UUID = Field(foreign_key="reports.id", index=True)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    # "transition", "note" or "triage" (assignment or priority).
    kind: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=2000)
    public: bool = Field(default=False)
    # The principal who wrote it (as the audit trail names actors: no foreign key).
    author_id: uuid.UUID | None = Field(default=None, index=True)
    assigned_to: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    priority: str | None = Field(default=None, max_length=8)
