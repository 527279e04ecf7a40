"""Broadcasts: legal knowledge, warnings and announcements sent to units, and who acknowledged."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record


class Broadcast(Record, table=True):
    """A message from the police to a ward, neighbourhoods or residential groups.

    ``ward_code`` is set when every target lies in one ward (a ward officer's
    broadcasts always do); a province officer's broadcast to several wards
    carries only ``province_code``."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        Index("ix_broadcasts_publish_at_id", "publish_at", "id"),
        Index("ix_broadcasts_province_code_publish_at_id", "province_code", "publish_at", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str | None = Field(default=None, foreign_key="wards.code", max_length=5, index=True)
    kind: str = Field(max_length=32, index=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    target_unit_codes: list[str] = Field(default_factory=list, sa_type=JSON)
    publish_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # The principal who sent it (as the audit trail names actors: no foreign key).
    author_id: uuid.UUID | None = Field(default=None, index=True)


class BroadcastTarget(Record, table=True):
    """One unit a broadcast is sent to: a ward, a neighbourhood or a residential group."""

    __tablename__ = "broadcast_targets"

    broadcast_id: uuid.UUID = Field(foreign_key="broadcasts.id", ondelete="CASCADE", index=True)
    # "ward", "neighbourhood" or "residential_group"
    level: str = Field(max_length=20)
    unit_code: str = Field(max_length=36)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, foreign_key="neighbourhoods.id", index=True
    )
    residential_group_id: uuid.UUID | None = Field(
        default=None, foreign_key="residential_groups.id", index=True
    )


class BroadcastAcknowledgement(Record, table=True):
    """A user's acknowledgement of a broadcast: at most one per user and broadcast."""

    __tablename__ = "broadcast_acknowledgements"
    __table_args__ = (
        Index(
            "uq_broadcast_acknowledgements_broadcast_id_user_id",
            "broadcast_id",
            "user_id",
            unique=True,
        ),
    )

    broadcast_id: uuid.UUID = Field(foreign_key="broadcasts.id", ondelete="CASCADE", index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    # Where the user lived when acknowledging (their account's anchor).
    province_code: str | None = Field(default=None, max_length=2, index=True)
    ward_code: str | None = Field(default=None, max_length=5, index=True)
    neighbourhood_id: uuid.UUID | None = Field(default=None, index=True)
