"""Bodies of the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.schemas.common import ReadModel


class AuditEventRead(ReadModel):
    """One successful write: who, in which role, did what to which record, and when."""

    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None
    actor_kind: str = Field(examples=["user"])
    actor_role: str | None = Field(examples=["ward_officer"])
    action: str = Field(examples=["update"])
    record_type: str = Field(examples=["neighbourhood"])
    record_id: str
    province_code: str | None = Field(examples=["22"])
    ward_code: str | None = Field(examples=["06688"])
    request_id: str | None
    changed_fields: list[str] = Field(
        examples=[["households", "population"]],
        description="Names only; values are never recorded.",
    )
