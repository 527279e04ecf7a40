"""Request and response bodies for fire-team equipment, readiness and the due list."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from app.schemas.common import (
    Day,
    InputModel,
    ProvinceCode,
    ReadModel,
    RecordRead,
    Text,
    WardCode,
)


class EquipmentKind(StrEnum):
    """What an item is."""

    EXTINGUISHER = "extinguisher"
    FORCED_ENTRY_TOOL = "forced_entry_tool"
    ALARM_BELL = "alarm_bell"
    CALL_POINT = "call_point"
    HOSE = "hose"
    OTHER = "other"


# What every house keeps (at least one of each).
REQUIRED_KIT = (
    EquipmentKind.EXTINGUISHER,
    EquipmentKind.FORCED_ENTRY_TOOL,
    EquipmentKind.ALARM_BELL,
)

HouseholdLabel = Annotated[str, Text(min_length=1, max_length=200)]
PointLabel = Annotated[str, Text(min_length=1, max_length=100)]
Description = Annotated[str, Text(min_length=1, max_length=200)]
Quantity = Annotated[int, Field(ge=0, le=1000)]
IntervalMonths = Annotated[int, Field(ge=1, le=120)]

LOCATION = "Exactly one of `household` (one of the team's households) and `public_point`."
SCHEDULE = "`last_inspected_on` and `inspection_interval_months` come together or not at all."


class FireEquipmentCreate(InputModel):
    """A new item (or several of one kind) at a house or public point of the team."""

    kind: EquipmentKind
    household: HouseholdLabel | None = Field(default=None, description=LOCATION)
    public_point: PointLabel | None = Field(
        default=None, description="The label of one of the team's public fire points."
    )
    description: Description | None = Field(default=None, examples=["Bình bột ABC 4 kg"])
    quantity: Quantity = Field(default=1, examples=[1])
    last_inspected_on: Day | None = Field(default=None, description=SCHEDULE)
    inspection_interval_months: IntervalMonths | None = Field(default=None, examples=[6])
    expires_on: Day | None = Field(default=None, examples=["2028-06-30"])


class FireEquipmentUpdate(InputModel):
    """Changes to an item; send only what changes (null clears a date)."""

    kind: EquipmentKind | None = None
    household: HouseholdLabel | None = None
    public_point: PointLabel | None = None
    description: Description | None = None
    quantity: Quantity | None = None
    last_inspected_on: Day | None = None
    inspection_interval_months: IntervalMonths | None = None
    expires_on: Day | None = None


class FireEquipmentRead(RecordRead):
    """An equipment item of a fire team."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    team_id: uuid.UUID
    kind: EquipmentKind
    household: str | None = Field(examples=["Nhà số 12, ngõ 45 Lê Thánh Tông"])
    public_point: str | None = Field(examples=[None])
    description: str | None = Field(examples=["Bình bột ABC 4 kg"])
    quantity: int = Field(examples=[1])
    last_inspected_on: date | None = Field(examples=["2026-05-31"])
    inspection_interval_months: int | None = Field(examples=[6])
    next_inspection_on: date | None = Field(
        examples=["2026-11-30"],
        description="last_inspected_on plus the interval; the last day of the month when "
        "that month is shorter (31 Aug + 6 months = 28 or 29 Feb).",
    )
    expires_on: date | None = Field(examples=["2028-06-30"])
    due_on: date | None = Field(
        examples=["2026-11-30"], description="The earlier of next_inspection_on and expires_on."
    )


class EquipmentDueRead(FireEquipmentRead):
    """An item whose inspection or expiry falls before the asked date."""

    team_name: str = Field(examples=["Tổ liên gia ngõ 45"])
    due_for: list[Literal["inspection", "expiry"]] = Field(
        examples=[["inspection"]], description="Which date falls before `before`."
    )


class LateInspection(ReadModel):
    """A required item whose inspection is overdue."""

    equipment_id: uuid.UUID
    kind: EquipmentKind
    next_inspection_on: date = Field(examples=["2026-10-31"])


class ExpiredItem(ReadModel):
    """A required item past its expiry date."""

    equipment_id: uuid.UUID
    kind: EquipmentKind
    expires_on: date = Field(examples=["2026-06-30"])


class HouseholdReadiness(ReadModel):
    """One house's required kit."""

    household: str = Field(examples=["Nhà số 12, ngõ 45 Lê Thánh Tông"])
    ready: bool
    missing: list[EquipmentKind] = Field(examples=[["alarm_bell"]])
    inspection_late: list[LateInspection]
    expired: list[ExpiredItem]


class TeamReadiness(ReadModel):
    """Whether every house of a team keeps its required kit, in date, on ``as_of``."""

    team_id: uuid.UUID
    as_of: date = Field(examples=["2026-11-29"])
    required_kit: list[EquipmentKind] = Field(
        examples=[["extinguisher", "forced_entry_tool", "alarm_bell"]]
    )
    ready: bool
    households_ready: int = Field(examples=[7])
    household_count: int = Field(examples=[8])
    households: list[HouseholdReadiness]
