"""Refresh tokens: opaque, stored hashed, rotated on every use."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record


class RefreshToken(Record, table=True):
    """One refresh token of a login's family; presenting a used one revokes the family."""

    __tablename__ = "refresh_tokens"

    token_hash: str = Field(max_length=64, unique=True)
    family_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    scopes: str = Field(default="", max_length=2000)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
