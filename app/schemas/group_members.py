"""Request and response bodies for members of self-managed groups."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, computed_field

from app.schemas.common import Day, InputModel, ProvinceCode, RecordRead, Text, WardCode
from app.schemas.users import Phone


class MemberPosition(StrEnum):
    """A member's position in the group."""

    LEADER = "leader"
    DEPUTY = "deputy"
    MEMBER = "member"


FullName = Annotated[str, Text(min_length=1, max_length=200)]
BirthYear = Annotated[int, Field(ge=1900, le=2100, examples=[1978])]
Approver = Annotated[
    str,
    Text(min_length=1, max_length=200),
    Field(
        description="Grassroots security teams: who approved a member over 70 "
        "(name, office or decision number).",
        examples=["Chủ tịch UBND phường, QĐ 58/QĐ-UBND"],
    ),
]


class MemberCreate(InputModel):
    """A new member. Grassroots teams check age and residence; mediation teams need `elected_on`."""

    full_name: FullName = Field(examples=["Trần Văn Bình"])
    phone: Phone | None = None
    birth_year: BirthYear
    position: MemberPosition = Field(default=MemberPosition.MEMBER)
    joined_on: Day = Field(examples=["2025-03-01"])
    resident_since: Day | None = Field(
        default=None,
        description="Since when the member lives in the locality (grassroots teams: "
        "at least one year before `joined_on`).",
        examples=["2010-06-01"],
    )
    elected_on: Day | None = Field(
        default=None,
        description="Mediation teams: when the households elected the mediator.",
        examples=[None],
    )
    exception_approved_by: Approver | None = None
    left_on: Day | None = Field(
        default=None, description="When the member left; from then on not active."
    )
    user_id: uuid.UUID | None = Field(
        default=None,
        description="The `group_leader` account (of the group's ward) this member signs in "
        "with; as the active leader it manages the group's members. Officers and heads only.",
    )


class MemberUpdate(InputModel):
    """Changes to a member; send only what changes."""

    full_name: FullName | None = None
    phone: Phone | None = None
    birth_year: BirthYear | None = None
    position: MemberPosition | None = None
    joined_on: Day | None = None
    resident_since: Day | None = None
    elected_on: Day | None = None
    exception_approved_by: Approver | None = None
    left_on: Day | None = None
    user_id: uuid.UUID | None = None


class MemberRead(RecordRead):
    """A member; `phone` is masked (`09******12`) unless you may see it."""

    province_code: ProvinceCode
    ward_code: WardCode
    group_id: uuid.UUID
    full_name: str = Field(examples=["Trần Văn Bình"])
    phone: str | None = Field(
        description="In full for officers of the ward, admins and the group's own leader; "
        "everyone else gets the first and last two digits.",
        examples=["09******78"],
    )
    phone_masked: bool = Field(description="Whether `phone` is masked for you.")
    birth_year: int = Field(examples=[1978])
    position: MemberPosition
    joined_on: date = Field(examples=["2025-03-01"])
    resident_since: date | None = Field(examples=["2010-06-01"])
    elected_on: date | None = Field(examples=[None])
    exception_approved_by: str | None = Field(examples=[None])
    left_on: date | None = Field(examples=[None])
    user_id: uuid.UUID | None

    @computed_field(  # type: ignore[prop-decorator]
        description="Whether the member still serves (no `left_on`)."
    )
    @property
    def active(self) -> bool:
        return self.left_on is None
