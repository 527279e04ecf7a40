"""Administrative units: the official provinces and wards (reference data, by code)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from app.models.base import Timestamped


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


__all__ = ["Province", "SQLModel", "Ward"]
