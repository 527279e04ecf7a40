"""Yearly fire-safety competitions between inter-family teams, at ward and province level."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from app.models.base import Record


class Competition(Record, table=True):
    """One round of a year's competition in one ward, or across one province."""

    __tablename__ = "competitions"
    __table_args__ = (
        Index(
            "uq_competitions_unit_code_year_name",
            "unit_code",
            "year",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_competitions_year_created_at_id", "year", "created_at", "id"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    # The ward of a ward-level competition; null for a province-level one.
    ward_code: str | None = Field(default=None, foreign_key="wards.code", max_length=5, index=True)
    year: int = Field(index=True)
    level: str = Field(max_length=16, index=True)
    # The ward code (ward level) or the province code (province level).
    unit_code: str = Field(max_length=5, index=True)
    name: str = Field(max_length=200)
    held_on: date | None = Field(default=None)


class CompetitionEntry(Record, table=True):
    """A team's entry in a competition, and its scores once judged."""

    __tablename__ = "competition_entries"
    __table_args__ = (
        Index(
            "uq_competition_entries_competition_id_team_id",
            "competition_id",
            "team_id",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_competition_entries_competition_id_created_at_id",
            "competition_id",
            "created_at",
            "id",
        ),
    )

    competition_id: uuid.UUID = Field(foreign_key="competitions.id", index=True)
    team_id: uuid.UUID = Field(foreign_key="fire_teams.id", index=True)
    # Where the team is: entries are scoped like the competition, but sync and
    # statistics by ward need the team's own place.
    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    theory_score: int | None = Field(default=None)
    practical_score: int | None = Field(default=None)
    practical_seconds: float | None = Field(default=None)
    # theory + practical once both are judged, kept for the ranking's ORDER BY.
    total_score: int | None = Field(default=None)


__all__ = ["Competition", "CompetitionEntry"]
