"""The members of a self-managed group."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


class GroupMember(Record, table=True):
    """A member of a self-managed group; ``left_on`` set means no longer active."""

    __tablename__ = "group_members"
    __table_args__ = (
        # At most one active leader per group, whatever races the service's own check.
        Index(
            "uq_group_members_one_active_leader",
            "group_id",
            unique=True,
            sqlite_where=text("position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"),
            postgresql_where=text("position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"),
        ),
        # One member row per account and group.
        Index(
            "uq_group_members_group_id_user_id",
            "group_id",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL AND deleted_at IS NULL"),
            postgresql_where=text("user_id IS NOT NULL AND deleted_at IS NULL"),
        ),
        Index("ix_group_members_group_id_created_at_id", "group_id", "created_at", "id"),
    )

    group_id: uuid.UUID = Field(foreign_key="self_managed_groups.id")
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    full_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    birth_year: int
    position: str = Field(max_length=16)
    joined_on: date
    resident_since: date | None = Field(default=None)
    elected_on: date | None = Field(default=None)
    exception_approved_by: str | None = Field(default=None, max_length=200)
    left_on: date | None = Field(default=None)
    # The group_leader account this member signs in with (a leader's link to the group).
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
