"""Fire-fighting equipment kept by each house of a fire team, or at its public fire points."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field

from app.models.base import Record


class FireEquipment(Record, table=True):
    """One kind of item at one house or public point, with its inspection and expiry dates."""

    __tablename__ = "fire_equipment"
    __table_args__ = (
        Index("ix_fire_equipment_team_id_created_at_id", "team_id", "created_at", "id"),
        Index("ix_fire_equipment_due_on_id", "due_on", "id"),
        Index("ix_fire_equipment_ward_code_due_on_id", "ward_code", "due_on", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID = Field(foreign_key="neighbourhoods.id", index=True)
    team_id: uuid.UUID = Field(foreign_key="fire_teams.id", index=True)
    kind: str = Field(max_length=32, index=True)
    # Exactly one of the two: the house that keeps it, or the team's public fire point.
    household: str | None = Field(default=None, max_length=200)
    public_point: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=200)
    quantity: int = Field(default=1)
    last_inspected_on: date | None = Field(default=None)
    inspection_interval_months: int | None = Field(default=None)
    expires_on: date | None = Field(default=None)
    # Derived on every write (month arithmetic in Python, the same on both
    # databases), so that the due list is one indexed comparison.
    next_inspection_on: date | None = Field(default=None)
    due_on: date | None = Field(default=None)


__all__ = ["FireEquipment"]
