"""Accounts of people; machine clients live in ``clients``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record


class User(Record, table=True):
    """A person who signs in: an officer, a neighbourhood head, a camera owner, a resident."""

    __tablename__ = "users"
    __table_args__ = (
        Index(
            "uq_users_username",
            "username",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    username: str = Field(max_length=64)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    role: str = Field(max_length=32, index=True)
    # The unit the role is anchored to, and the province/ward it lies in, so
    # that scoping a query is one indexed predicate.
    unit_code: str | None = Field(default=None, max_length=36)
    province_code: str | None = Field(
        default=None, foreign_key="provinces.code", max_length=2, index=True
    )
    ward_code: str | None = Field(default=None, foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, foreign_key="neighbourhoods.id", index=True
    )
    is_active: bool = Field(default=True)
    # Raised whenever the account's access tokens must stop working at once
    # (deactivated, deleted, its role, unit or password changed): a token
    # carries the epoch it was issued at (app/revocations.py).
    token_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    token_epoch_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    password_hash: str = Field(max_length=255)
