"""Request and response bodies for self-managed groups."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, RootModel, computed_field

from app.pagination import Page
from app.schemas.common import (
    Day,
    InputModel,
    MultilineText,
    ProvinceCode,
    RecordRead,
    Text,
    WardCode,
)


class GroupKind(StrEnum):
    """What kind of self-managed group it is."""

    SECURITY_SELF_MANAGEMENT = "security_self_management"
    GRASSROOTS_SECURITY_TEAM = "grassroots_security_team"
    MEDIATION_TEAM = "mediation_team"
    MARKET_SELF_MANAGEMENT = "market_self_management"
    BOARDING_HOUSE_SELF_MANAGEMENT = "boarding_house_self_management"
    CRIME_PREVENTION_CHANNEL = "crime_prevention_channel"


class GroupStatus(StrEnum):
    """Whether the group is working."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISSOLVED = "dissolved"


GroupName = Annotated[str, Text(min_length=1, max_length=200)]
DecisionNo = Annotated[str, Text(min_length=1, max_length=64)]
Households = Annotated[int, Field(ge=0, le=10_000_000)]
CharterNotes = Annotated[str, MultilineText(max_length=4000)]
CoveredGroups = Annotated[
    list[uuid.UUID],
    Field(
        max_length=500,
        description="Residential groups (tổ dân phố) the group covers, in its ward "
        "(and in its neighbourhood, if it has one). A grassroots security team may cover several.",
        examples=[["0193a1c4-6f0e-7c2a-9d1e-5b8f3a2c4d10"]],
    ),
]


class GroupCreate(InputModel):
    """A new self-managed group. Give `neighbourhood_id`, or `ward_code` for a ward-wide group."""

    kind: GroupKind = Field(examples=["security_self_management"])
    name: GroupName = Field(examples=["Tổ tự quản ANTT khu phố 3"])
    ward_code: WardCode | None = Field(
        default=None, description="Needed only when there is no `neighbourhood_id`."
    )
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, description="Omit for a ward-wide group or a team spanning neighbourhoods."
    )
    covered_residential_group_ids: CoveredGroups = Field(default_factory=list)
    households_covered: Households | None = Field(default=None, examples=[412])
    founded_on: Day | None = Field(default=None, examples=["2024-03-15"])
    founding_decision_no: DecisionNo | None = Field(default=None, examples=["125/QĐ-UBND"])
    status: GroupStatus = Field(default=GroupStatus.ACTIVE)
    charter_notes: CharterNotes | None = Field(
        default=None, examples=["Hương ước: giữ trật tự sau 22 giờ, báo tin người lạ."]
    )
    households_linked: Households | None = Field(
        default=None,
        description="Crime-prevention channels only: households linked to the channel.",
        examples=[412],
    )


class GroupUpdate(InputModel):
    """Changes to a group; send only what changes. `kind` and `ward_code` cannot change."""

    name: GroupName | None = None
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, description="null makes the group ward-wide (ward officers and admins)."
    )
    covered_residential_group_ids: CoveredGroups | None = Field(
        default=None, description="The full new list; it replaces the old one."
    )
    households_covered: Households | None = None
    founded_on: Day | None = None
    founding_decision_no: DecisionNo | None = None
    status: GroupStatus | None = None
    charter_notes: CharterNotes | None = None
    households_linked: Households | None = None


class GroupSummaryRead(RecordRead):
    """A group as residents and camera owners see it: its name and kind, nothing more."""

    view: Literal["summary"] = Field(
        description="`summary`: the reduced view for residents and camera owners."
    )
    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID | None
    kind: GroupKind
    name: str = Field(examples=["Tổ tự quản ANTT khu phố 3"])
    status: GroupStatus


class GroupRead(RecordRead):
    """A self-managed group as officers, heads, leaders and ward systems see it."""

    view: Literal["full"] = Field(description="`full`: every field of the group.")
    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID | None
    kind: GroupKind
    name: str = Field(examples=["Nhóm Zalo phòng chống tội phạm khu phố 3"])
    status: GroupStatus
    covered_residential_group_ids: list[uuid.UUID]
    households_covered: int | None = Field(examples=[412])
    founded_on: date | None = Field(examples=["2024-03-15"])
    founding_decision_no: str | None = Field(examples=["125/QĐ-UBND"])
    charter_notes: str | None = Field(examples=[None])
    households_linked: int | None = Field(examples=[412])
    area_households: int | None = Field(
        description="Crime-prevention channels: households of the area the channel covers "
        "(its residential groups, else its neighbourhood, else its ward's neighbourhoods).",
        examples=[412],
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="Crime-prevention channels: `households_linked / area_households`, "
        "4 decimals (1.0 is every household); null for other kinds, without "
        "`households_linked`, or when the area has no households.",
        examples=[1.0],
    )
    @property
    def coverage_ratio(self) -> float | None:
        if self.kind is not GroupKind.CRIME_PREVENTION_CHANNEL:
            return None
        if self.households_linked is None or not self.area_households:
            return None
        return round(self.households_linked / self.area_households, 4)


class GroupView(RootModel[Annotated[GroupRead | GroupSummaryRead, Field(discriminator="view")]]):
    """A group in the view the caller gets: `full`, or `summary` for residents and camera owners.

    Branch on `view`; every item of one answer has the same view."""


class GroupPage(Page[GroupView]):
    """One page of groups: all `full`, or all `summary` for residents and camera owners."""
