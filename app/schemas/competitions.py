"""Request and response bodies for fire-safety competitions, entries and rankings."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.schemas.common import Day, InputModel, ProvinceCode, ReadModel, RecordRead, Text


class CompetitionLevel(StrEnum):
    """The round: inside one ward, or across the province."""

    WARD = "ward"
    PROVINCE = "province"


Year = Annotated[int, Field(ge=2000, le=2999, examples=[2026])]
UnitCode = Annotated[
    str,
    Text(pattern=r"^\d{2}(\d{3})?$"),
    Field(
        description="The ward code for a ward-level competition, the province code for a "
        "province-level one.",
        examples=["06688"],
    ),
]
CompetitionName = Annotated[str, Text(min_length=1, max_length=200)]
Score = Annotated[int, Field(ge=0, le=100, examples=[85])]
Seconds = Annotated[
    float,
    Field(gt=0, le=3600, examples=[142.5], description="The practical round's time, in seconds."),
]


class CompetitionCreate(InputModel):
    """A new competition round."""

    year: Year
    level: CompetitionLevel
    unit_code: UnitCode
    name: CompetitionName = Field(
        examples=["Hội thi tổ liên gia an toàn PCCC phường Hạ Long 2026"],
        description="Unique for the unit and year.",
    )
    held_on: Day | None = Field(default=None, examples=["2026-10-04"], description="In `year`.")


class CompetitionUpdate(InputModel):
    """Changes to a competition (its year, level and unit are fixed)."""

    name: CompetitionName | None = None
    held_on: Day | None = None


class CompetitionRead(RecordRead):
    """A fire-safety competition round."""

    province_code: ProvinceCode
    ward_code: str | None = Field(examples=["06688"], description="Null at province level.")
    year: int = Field(examples=[2026])
    level: CompetitionLevel
    unit_code: str = Field(examples=["06688"])
    name: str = Field(examples=["Hội thi tổ liên gia an toàn PCCC phường Hạ Long 2026"])
    held_on: date | None = Field(examples=["2026-10-04"])


class EntryCreate(InputModel):
    """A team entering the competition; scores may follow once judged."""

    team_id: uuid.UUID = Field(description="A team inside the competition's ward or province.")
    theory_score: Score | None = None
    practical_score: Score | None = None
    practical_seconds: Seconds | None = None


class EntryUpdate(InputModel):
    """The judges' scores; send only what changes (null clears one)."""

    theory_score: Score | None = None
    practical_score: Score | None = None
    practical_seconds: Seconds | None = None


class EntryRead(RecordRead):
    """A team's entry in a competition."""

    competition_id: uuid.UUID
    team_id: uuid.UUID
    province_code: ProvinceCode
    ward_code: str = Field(examples=["06688"], description="The team's ward.")
    theory_score: int | None = Field(examples=[85])
    practical_score: int | None = Field(examples=[90])
    practical_seconds: float | None = Field(examples=[142.5])
    total_score: int | None = Field(examples=[175], description="theory + practical, once both.")


class RankedEntry(ReadModel):
    """One line of the ranking."""

    rank: int | None = Field(
        examples=[2], description="1, 2, 2, 4...: equal on all three keys share a rank."
    )
    entry_id: uuid.UUID
    team_id: uuid.UUID
    team_name: str = Field(examples=["Tổ liên gia ngõ 45"])
    ward_code: str = Field(examples=["06688"])
    theory_score: int | None = Field(examples=[85])
    practical_score: int | None = Field(examples=[90])
    total_score: int | None = Field(examples=[175])
    practical_seconds: float | None = Field(examples=[142.5])


class Ranking(ReadModel):
    """The whole ranking in one answer (a competition holds at most 500 entries)."""

    competition_id: uuid.UUID
    year: int = Field(examples=[2026])
    level: CompetitionLevel
    unit_code: str = Field(examples=["06688"])
    items: list[RankedEntry] = Field(
        description="Scored entries: total desc, then practical_seconds asc, then theory desc."
    )
    unscored: list[RankedEntry] = Field(
        description="Entries still missing a score (rank null), by team name."
    )
