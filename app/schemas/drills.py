"""Request and response bodies for fire drills."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, computed_field

from app.schemas.common import (
    Day,
    InputModel,
    MultilineText,
    ProvinceCode,
    RecordRead,
    Timestamp,
    WardCode,
)


class DrillOutcome(StrEnum):
    """How a held drill went."""

    PASSED = "passed"
    NEEDS_IMPROVEMENT = "needs_improvement"
    FAILED = "failed"


HeldAt = Annotated[
    Timestamp,
    Field(
        description="When the drill was held, with an offset; not in the future. "
        "Null while it is only planned.",
        examples=["2026-03-14T08:30:00+07:00"],
    ),
]
Scenario = Annotated[str, MultilineText(min_length=1, max_length=500)]
Notes = Annotated[str, MultilineText(min_length=1, max_length=2000)]
Participants = Annotated[int, Field(ge=0, le=1000, examples=[24])]
HouseholdsPresent = Annotated[
    int, Field(ge=0, le=15, examples=[8], description="At most the team's household count.")
]
ResponseSeconds = Annotated[
    int, Field(ge=0, le=86_400, examples=[95], description="Alarm to first water, in seconds.")
]
RESULTS = (
    "`participants`, `households_present`, `response_seconds` and `outcome` are results: "
    "they need `held_at` (else 422, `rule` `drill_results_need_held_at`)."
)


class DrillCreate(InputModel):
    """A drill planned for a team (or recorded at once as held)."""

    team_id: uuid.UUID
    scenario: Scenario = Field(
        examples=["Cháy bếp gas tại nhà số 12, ngõ 45; cứu người kẹt tầng 2"]
    )
    planned_for: Day = Field(examples=["2026-03-14"])
    held_at: HeldAt | None = None
    participants: Participants | None = None
    households_present: HouseholdsPresent | None = None
    response_seconds: ResponseSeconds | None = None
    outcome: DrillOutcome | None = Field(default=None, description=RESULTS)
    notes: Notes | None = None


class DrillUpdate(InputModel):
    """Changes to a drill, e.g. its results once held; send only what changes."""

    scenario: Scenario | None = None
    planned_for: Day | None = None
    held_at: HeldAt | None = None
    participants: Participants | None = None
    households_present: HouseholdsPresent | None = None
    response_seconds: ResponseSeconds | None = None
    outcome: DrillOutcome | None = None
    notes: Notes | None = None


class DrillRead(RecordRead):
    """A fire drill of a team."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    team_id: uuid.UUID
    scenario: str = Field(examples=["Cháy bếp gas tại nhà số 12, ngõ 45"])
    planned_for: date = Field(examples=["2026-03-14"])
    held_at: datetime | None = Field(examples=["2026-03-14T01:30:00Z"])
    occurs_on: date = Field(
        examples=["2026-03-14"],
        description="The day held (in Vietnam) or, until then, the day planned; "
        "the `from`/`to` filters and the list order use it.",
    )
    participants: int | None = Field(examples=[24])
    households_present: int | None = Field(examples=[8])
    response_seconds: int | None = Field(examples=[95])
    outcome: DrillOutcome | None
    notes: str | None = Field(examples=[None])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def held(self) -> bool:
        """Whether the drill has been held."""
        return self.held_at is not None
