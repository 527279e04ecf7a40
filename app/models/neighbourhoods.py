"""Neighbourhoods (khu phố, thôn): local units of a ward."""

from __future__ import annotations

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


class Neighbourhood(Record, table=True):
    """A khu phố / thôn: local, its ``code`` unique inside its ward."""

    __tablename__ = "neighbourhoods"
    __table_args__ = (
        Index(
            "uq_neighbourhoods_ward_code_code",
            "ward_code",
            "code",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_neighbourhoods_ward_code_code_id", "ward_code", "code", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    households: int = Field(default=0, ge=0)
    population: int = Field(default=0, ge=0)
