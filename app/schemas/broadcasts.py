"""Request and response bodies for broadcasts and their acknowledgements."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from app.schemas.common import (
    InputModel,
    MultilineText,
    ProvinceCode,
    ReadModel,
    RecordRead,
    Text,
    Timestamp,
    WardCode,
)


class BroadcastKind(StrEnum):
    """What a broadcast carries."""

    LEGAL_KNOWLEDGE = "legal_knowledge"
    WARNING = "warning"
    ANNOUNCEMENT = "announcement"


class BroadcastState(StrEnum):
    """Where a broadcast is in its life: not yet published, live, or past its expiry."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    EXPIRED = "expired"


Title = Annotated[str, Text(min_length=1, max_length=200)]
Body = Annotated[str, MultilineText(min_length=1, max_length=10_000)]
UnitCode = Annotated[str, Text(min_length=5, max_length=36)]


class BroadcastCreate(InputModel):
    """A new broadcast to units inside your scope."""

    title: Title = Field(examples=["Cảnh báo lừa đảo qua điện thoại"])
    body: Body = Field(
        examples=["Đối tượng giả danh công an gọi điện yêu cầu chuyển tiền. Không chuyển tiền."]
    )
    kind: BroadcastKind = Field(examples=["warning"])
    target_unit_codes: list[UnitCode] = Field(
        min_length=1,
        max_length=200,
        description="Ward codes (5 digits), neighbourhood ids and residential group ids, "
        "all inside your scope and in one province.",
        examples=[["06688"]],
    )
    publish_at: Timestamp | None = Field(
        default=None, description="When it goes live; now if omitted."
    )
    expires_at: Timestamp | None = Field(
        default=None, description="When it stops being shown; never if omitted."
    )

    @model_validator(mode="after")
    def _ordered(self) -> BroadcastCreate:
        if self.publish_at and self.expires_at and self.expires_at <= self.publish_at:
            raise ValueError("expires_at must be after publish_at")
        return self


class BroadcastUpdate(InputModel):
    """Changes to a broadcast (its targets stay as sent); send only what changes."""

    title: Title | None = None
    body: Body | None = None
    kind: BroadcastKind | None = None
    publish_at: Timestamp | None = None
    expires_at: Timestamp | None = Field(default=None, description="null: never expires.")


class BroadcastRead(RecordRead):
    """A broadcast."""

    province_code: ProvinceCode
    ward_code: WardCode | None = Field(
        description="Set when every target lies in one ward; null for a broadcast to several wards."
    )
    kind: BroadcastKind
    title: str
    body: str
    target_unit_codes: list[str]
    publish_at: datetime
    expires_at: datetime | None
    author_id: uuid.UUID | None
    state: BroadcastState
    acknowledged: bool = Field(description="Whether you have acknowledged it.")


class AcknowledgementRead(RecordRead):
    """Your acknowledgement of a broadcast."""

    broadcast_id: uuid.UUID
    user_id: uuid.UUID
    province_code: ProvinceCode | None
    ward_code: WardCode | None
    neighbourhood_id: uuid.UUID | None


class BroadcastReachRead(ReadModel):
    """How far a broadcast reached: acknowledgements against the households targeted."""

    broadcast_id: uuid.UUID
    acknowledged: int = Field(
        description="Accounts that acknowledged (one is taken to speak for one household).",
        examples=[412],
    )
    households: int = Field(
        description="Households of the targeted units, each counted once.", examples=[1830]
    )
    reach: float | None = Field(
        description="acknowledged / households, to 4 places; null when no household is "
        "recorded. It can pass 1 where units under-record their households.",
        examples=[0.2251],
    )
