"""Request and response bodies for inter-family fire-safety teams."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.schemas.common import InputModel, ProvinceCode, ReadModel, RecordRead, Text, WardCode


class FireTeamStatus(StrEnum):
    """Where a team stands: working, paused, or wound up (kept for its history)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DISBANDED = "disbanded"


TeamName = Annotated[str, Text(min_length=1, max_length=200)]
PersonName = Annotated[str, Text(min_length=1, max_length=200)]
Phone = Annotated[
    str,
    Text(pattern=r"^\+?[0-9]{8,15}$"),
    Field(examples=["0912345678"]),
]
HouseholdLabel = Annotated[
    str,
    Text(min_length=1, max_length=200),
    Field(examples=["Nhà số 12, ngõ 45 Lê Thánh Tông"]),
]
PointLabel = Annotated[str, Text(min_length=1, max_length=100)]
ItemText = Annotated[str, Text(min_length=1, max_length=100)]


class LeaderMember(InputModel):
    """The team's leader as a person (personal data)."""

    name: PersonName = Field(examples=["Vũ Thị Giang"])
    phone: Phone | None = None


class PublicFirePoint(InputModel):
    """A public fire point (điểm chữa cháy công cộng), often at the mouth of a deep alley."""

    label: PointLabel = Field(examples=["Điểm CC ngõ 45"])
    location: Annotated[str, Text(min_length=1, max_length=300)] = Field(
        examples=["Đầu ngõ 45 Lê Thánh Tông, cạnh cột điện số 12"]
    )
    lat: float | None = Field(default=None, ge=-90, le=90, examples=[20.9517])
    lon: float | None = Field(default=None, ge=-180, le=180, examples=[107.0806])
    equipment: list[ItemText] = Field(
        default_factory=list,
        max_length=20,
        description="What the point holds, in words; inspected items go to `/equipment`.",
        examples=[["2 bình bột 8 kg", "1 xà beng", "1 kẻng"]],
    )


HOUSEHOLDS_DESCRIPTION = (
    "Labels or addresses of the 5 to 15 adjacent households, each once "
    "(otherwise 422 with `rule` `fire_team_household_count` or `fire_team_household_distinct`)."
)


class FireTeamCreate(InputModel):
    """A new team in a neighbourhood."""

    neighbourhood_id: uuid.UUID
    ward_code: WardCode | None = Field(
        default=None, description="Optional; when sent it must be the neighbourhood's ward."
    )
    name: TeamName = Field(
        examples=["Tổ liên gia ngõ 45"], description="Unique in the neighbourhood."
    )
    leader_member: LeaderMember
    leader_user_id: uuid.UUID | None = Field(
        default=None,
        description="The `group_leader` account of this neighbourhood that records for the team.",
    )
    households: list[HouseholdLabel] = Field(description=HOUSEHOLDS_DESCRIPTION)
    public_fire_points: list[PublicFirePoint] = Field(default_factory=list, max_length=20)
    status: FireTeamStatus = FireTeamStatus.ACTIVE


class FireTeamUpdate(InputModel):
    """Changes to a team; send only what changes (it cannot move neighbourhood)."""

    name: TeamName | None = None
    leader_member: LeaderMember | None = None
    leader_user_id: uuid.UUID | None = None
    households: list[HouseholdLabel] | None = Field(
        default=None, description=HOUSEHOLDS_DESCRIPTION
    )
    public_fire_points: list[PublicFirePoint] | None = Field(default=None, max_length=20)
    status: FireTeamStatus | None = None


class LeaderMemberRead(ReadModel):
    """The leader; ``phone`` is masked (``09******78``) except for the ward's officers,
    admins and the leader."""

    name: str = Field(examples=["Vũ Thị Giang"])
    phone: str | None = Field(examples=["09******78"])


class PublicFirePointRead(ReadModel):
    """A public fire point of the team."""

    label: str = Field(examples=["Điểm CC ngõ 45"])
    location: str = Field(examples=["Đầu ngõ 45 Lê Thánh Tông"])
    lat: float | None = Field(default=None, examples=[20.9517])
    lon: float | None = Field(default=None, examples=[107.0806])
    equipment: list[str] = Field(examples=[["2 bình bột 8 kg", "1 kẻng"]])


class FireTeamRead(RecordRead):
    """An inter-family fire-safety team."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    name: str = Field(examples=["Tổ liên gia ngõ 45"])
    leader_user_id: uuid.UUID | None
    leader_member: LeaderMemberRead
    households: list[str] = Field(examples=[["Nhà số 1", "Nhà số 3", "Nhà số 5", "Nhà số 7"]])
    household_count: int = Field(examples=[8])
    public_fire_points: list[PublicFirePointRead]
    status: FireTeamStatus
