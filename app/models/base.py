"""Columns every wardsafe table shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow, uuid7


class Timestamped(SQLModel):
    """``created_at``, ``updated_at`` (UTC) and the optimistic-concurrency ``version``."""

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    version: int = Field(default=1, nullable=False)


class Record(Timestamped):
    """A record with a UUID primary key and a soft-delete mark that sync can see."""

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
