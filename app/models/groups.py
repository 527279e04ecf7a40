"""Self-managed groups (tổ tự quản) and the residential groups they cover; their
members are in ``group_members``, their designations in ``exemplary_models``."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Index
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
