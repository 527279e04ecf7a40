"""Fire drills of inter-family fire-safety teams: planned, then held."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field

from app.db import UTCDateTime
from app.models.base import Record


class Drill(Record, table=True):
    """One drill of one team: a scenario, a planned day, and once held its results."""

    __tablename__ = "drills"
    __table_args__ = (
        Index("ix_drills_occurs_on_id", "occurs_on", "id"),
        Index("ix_drills_ward_code_occurs_on_id", "ward_code", "occurs_on", "id"),
        Index("ix_drills_team_id_occurs_on_id", "team_id", "occurs_on", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID = Field(foreign_key="neighbourhoods.id", index=True)
    team_id: uuid.UUID = Field(foreign_key="fire_teams.id", index=True)
    scenario: str = Field(max_length=500)
    planned_for: date = Field()
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The day in Vietnam (UTC+7) the drill was held, or is planned for while it
    # is not: derived on write, the date filters and the list order use it.
    occurs_on: date = Field()
    participants: int | None = Field(default=None)
    households_present: int | None = Field(default=None)
    response_seconds: int | None = Field(default=None)
    outcome: str | None = Field(default=None, max_length=32, index=True)
    notes: str | None = Field(default=None, max_length=2000)


__all__ = ["Drill"]
