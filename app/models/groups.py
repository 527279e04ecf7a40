"""Self-managed groups (tổ tự quản), their members, coverage and exemplary-model designations."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


class SelfManagedGroup(Record, table=True):
    """A security self-management group, grassroots team, mediation team, market or
    boarding-house group, or crime-prevention channel of a ward."""

    # Not "groups": GROUPS is a keyword (window frames) in both databases.
    __tablename__ = "self_managed_groups"
    __table_args__ = (
        Index("ix_self_managed_groups_ward_code_created_at_id", "ward_code", "created_at", "id"),
        Index("ix_self_managed_groups_created_at_id", "created_at", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    # None: a ward-wide group, or a team spanning several neighbourhoods.
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, foreign_key="neighbourhoods.id", index=True
    )
    kind: str = Field(max_length=40, index=True)
    name: str = Field(max_length=200)
    # fold(name): lowercase, no diacritics, for `q`.
    search_key: str = Field(max_length=200)
    households_covered: int | None = Field(default=None)
    founded_on: date | None = Field(default=None)
    founding_decision_no: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=16, index=True)
    charter_notes: str | None = Field(default=None, max_length=4000)
    # Crime-prevention channels only: households with a member in the chat group.
    households_linked: int | None = Field(default=None)


class GroupResidentialGroup(Record, table=True):
    """A residential group (tổ dân phố) that a self-managed group covers."""

    __tablename__ = "group_residential_groups"
    __table_args__ = (
        Index(
            "uq_group_residential_groups_group_id_residential_group_id",
            "group_id",
            "residential_group_id",
            unique=True,
        ),
    )

    # A link means nothing without both ends: removing a row removes its links.
    group_id: uuid.UUID = Field(
        foreign_key="self_managed_groups.id", ondelete="CASCADE", index=True
    )
    residential_group_id: uuid.UUID = Field(
        foreign_key="residential_groups.id", ondelete="CASCADE", index=True
    )


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


class ExemplaryModel(Record, table=True):
    """A group designated an exemplary model (mô hình điển hình) for one year."""

    __tablename__ = "exemplary_models"
    __table_args__ = (
        Index(
            "uq_exemplary_models_group_id_year",
            "group_id",
            "year",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_exemplary_models_created_at_id", "created_at", "id"),
    )

    group_id: uuid.UUID = Field(foreign_key="self_managed_groups.id", index=True)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    year: int = Field(index=True)
    decision_no: str = Field(max_length=64)
    citation: str | None = Field(default=None, max_length=2000)
