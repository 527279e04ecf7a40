"""The audit trail: who did what to which record, never with personal values."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, Index
from sqlmodel import Field

from app.models.base import Record


class AuditEvent(Record, table=True):
    """One successful write, appended in the same transaction as the write itself."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id"),
        Index("ix_audit_events_created_at_id", "created_at", "id"),
    )

    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_kind: str = Field(max_length=16)
    actor_role: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=64)
    record_type: str = Field(max_length=64)
    record_id: str = Field(max_length=64)
    province_code: str | None = Field(default=None, max_length=2, index=True)
    ward_code: str | None = Field(default=None, max_length=5, index=True)
    request_id: str | None = Field(default=None, max_length=128)
    changed_fields: list[str] = Field(default_factory=list, sa_type=JSON)
