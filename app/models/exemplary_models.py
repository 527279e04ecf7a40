"""Exemplary-model designations of self-managed groups, one per group and year."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


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
