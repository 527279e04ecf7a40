"""Idempotency keys: the first answer to a creating POST, replayed for a retry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, UniqueConstraint
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record


class IdempotencyKey(Record, table=True):
    """A client's key for one creating request, with the response it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor_key", "key"),)

    actor_key: str = Field(max_length=80)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = Field(default=None)
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
