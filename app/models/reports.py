"""Community reports (the 24/7 channel); their history is in report_updates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, text
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record

# What GET /reports/statistics reads besides the unit and created_at.
STATISTICS_COLUMNS = ("status", "category", "acknowledged_at", "deleted_at")


def _unit_keyset(unit: str, nullable: bool = False) -> Index:
    """A unit's reports in list order, covering the figures on PostgreSQL.

    A nullable unit leaves its NULLs out: nothing looks reports up by a
    missing neighbourhood, and ``= :id`` implies ``IS NOT NULL`` to both
    planners."""
    present = text(f"{unit} IS NOT NULL") if nullable else None
    return Index(
        f"ix_reports_{unit}_created_at_id",
        unit,
        "created_at",
        "id",
        postgresql_include=list(STATISTICS_COLUMNS),
        postgresql_where=present,
        sqlite_where=present,
    )


class Report(Record, table=True):
    """Something a resident, an anonymous person or a city system reported to the ward police.

    An anonymous report keeps no account, no contact and no client address:
    ``reporter_id`` is None and nothing else names the sender. Its sender
    follows it with a tracking code, of which only the SHA-256 is kept."""

    __tablename__ = "reports"
    __table_args__ = (
        # The keysets of the lists: a province's, a ward's or a neighbourhood's
        # reports, a reporter's own, everything. The unit indexes also index
        # their foreign keys, and carry what the figures read (INCLUDE, on
        # PostgreSQL), so a unit's statistics are an index-only scan.
        _unit_keyset("province_code"),
        _unit_keyset("ward_code"),
        _unit_keyset("neighbourhood_id", nullable=True),
        Index("ix_reports_reporter_id_created_at_id", "reporter_id", "created_at", "id"),
        Index("ix_reports_created_at_id", "created_at", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2)
    ward_code: str = Field(foreign_key="wards.code", max_length=5)
    neighbourhood_id: uuid.UUID | None = Field(default=None, foreign_key="neighbourhoods.id")
    category: str = Field(max_length=32, index=True)
    description: str = Field(sa_type=Text)
    lat: float | None = Field(default=None)
    lon: float | None = Field(default=None)
    address: str | None = Field(default=None, max_length=500)
    media_refs: list[str] = Field(default_factory=list, sa_type=JSON)
    # Answers to the category's questions (the Open311 service attributes).
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    anonymous: bool = Field(default=False)
    reporter_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    tracking_code_hash: str | None = Field(default=None, max_length=64, unique=True)
    # "app" (this API) or "open311"; an Open311 report names the city system that sent it.
    source: str = Field(default="app", max_length=16)
    client_id: uuid.UUID | None = Field(default=None, foreign_key="clients.id", index=True)
    status: str = Field(default="received", max_length=16, index=True)
    priority: str = Field(default="normal", max_length=8)
    assigned_to: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    duplicate_of: uuid.UUID | None = Field(default=None, foreign_key="reports.id", index=True)
    # Set by transitions: the first answer of the police, and the resolution.
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
