"""Residential groups (tổ dân phố): local units of a neighbourhood."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


class ResidentialGroup(Record, table=True):
    """A tổ dân phố: local, its ``code`` unique inside its neighbourhood."""

    __tablename__ = "residential_groups"
    __table_args__ = (
        Index(
            "uq_residential_groups_neighbourhood_id_code",
            "neighbourhood_id",
            "code",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_residential_groups_neighbourhood_id_code_id", "neighbourhood_id", "code", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID = Field(foreign_key="neighbourhoods.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    households: int = Field(default=0, ge=0)
    population: int = Field(default=0, ge=0)
