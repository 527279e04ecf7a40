"""Administrative units: official provinces and wards, local neighbourhoods and groups."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.models.base import Record, Timestamped


class Province(Timestamped, table=True):
    """An official province or centrally-run city (2-digit code)."""

    __tablename__ = "provinces"

    code: str = Field(primary_key=True, max_length=2)
    name: str = Field(max_length=100)
    division_type: str = Field(max_length=40)
    codename: str = Field(max_length=100)
    search_key: str = Field(max_length=100, index=True)


class Ward(Timestamped, table=True):
    """An official ward, commune or special zone (5-digit code)."""

    __tablename__ = "wards"

    code: str = Field(primary_key=True, max_length=5)
    name: str = Field(max_length=100)
    division_type: str = Field(max_length=40)
    codename: str = Field(max_length=100)
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    search_key: str = Field(max_length=100, index=True)


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


__all__ = ["Neighbourhood", "Province", "ResidentialGroup", "SQLModel", "Ward"]
