"""Inter-family fire-safety teams (tổ liên gia an toàn PCCC): 5 to 15 adjacent households."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field

from app.models.base import Record


class FireTeam(Record, table=True):
    """A tổ liên gia: adjacent households of one neighbourhood, a leader, public fire points."""

    __tablename__ = "fire_teams"
    __table_args__ = (
        Index(
            "uq_fire_teams_neighbourhood_id_name",
            "neighbourhood_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_fire_teams_name_id", "name", "id"),
        Index("ix_fire_teams_ward_code_name_id", "ward_code", "name", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID = Field(foreign_key="neighbourhoods.id", index=True)
    name: str = Field(max_length=200)
    # The group_leader account that records drills and equipment for the team.
    leader_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    # Personal data: shown in full only to the ward's officers, admins and the leader.
    leader_name: str = Field(max_length=200)
    leader_phone: str | None = Field(default=None, max_length=20)
    households: list[str] = Field(default_factory=list, sa_type=JSON)
    # len(households), kept so that statistics can SUM it in SQL.
    household_count: int = Field(default=0)
    public_fire_points: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(default="active", max_length=16, index=True)


__all__ = ["FireTeam"]
