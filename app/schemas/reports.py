"""Request and response bodies for community reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from app.schemas.common import (
    InputModel,
    MultilineText,
    ProvinceCode,
    ReadModel,
    RecordRead,
    Text,
    WardCode,
)


class ReportCategory(StrEnum):
    """What a report is about (the Open311 ``service_code``)."""

    THEFT = "theft"
    FIGHTING = "fighting"
    DRUGS = "drugs"
    GAMBLING = "gambling"
    FIRE_HAZARD = "fire_hazard"
    SUSPICIOUS_PERSON = "suspicious_person"
    TRAFFIC = "traffic"
    NOISE = "noise"
    OTHER = "other"


class ReportStatus(StrEnum):
    """Where a report is in triage; the last three are closed."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class ReportPriority(StrEnum):
    """How urgent the ward police rate a report."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


Description = Annotated[str, MultilineText(min_length=1, max_length=4000)]
Address = Annotated[str, Text(min_length=1, max_length=500)]
MediaRef = Annotated[str, Text(max_length=2000, pattern=r"^https?://\S+$")]
# Open311's `text` questions take multi-line answers.
Answer = Annotated[str | int, MultilineText(max_length=500)]
QuestionCode = Annotated[str, Text()]


class ReportCreate(InputModel):
    """A new report. Give a location: `lat` and `lon`, or `address`, or both."""

    category: ReportCategory = Field(examples=["noise"])
    description: Description = Field(
        examples=["Karaoke rất to sau 23 giờ ở ngõ 12, đã nhiều đêm liền."]
    )
    lat: float | None = Field(default=None, ge=-90, le=90, examples=[20.9526])
    lon: float | None = Field(default=None, ge=-180, le=180, examples=[107.0810])
    address: Address | None = Field(default=None, examples=["Ngõ 12, phố Lê Thánh Tông"])
    ward_code: WardCode | None = Field(
        default=None,
        description="Required unless `neighbourhood_id` is given or your account belongs to "
        "a neighbourhood or ward (then it defaults to yours).",
    )
    neighbourhood_id: uuid.UUID | None = Field(default=None)
    media_refs: list[MediaRef] = Field(
        default_factory=list,
        max_length=10,
        description="Links to photos or videos already uploaded elsewhere.",
        examples=[["https://media.example.vn/r/9f2c.jpg"]],
    )
    attributes: dict[QuestionCode, Answer] = Field(
        default_factory=dict,
        max_length=20,
        description="Answers to the category's questions (see the Open311 service "
        "definitions), all optional.",
        examples=[{"time_of_day": "night"}],
    )
    anonymous: bool = Field(
        default=False,
        description="Keep no account, contact or address with the report; you get a "
        "one-time `tracking_code` instead. Reports sent without a token are always anonymous.",
    )

    @model_validator(mode="after")
    def _located(self) -> ReportCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and self.address is None:
            raise ValueError("give a location: lat and lon, or address")
        return self


class ReportTriage(InputModel):
    """Assignment and priority (ward officers); send only what changes."""

    assigned_to: uuid.UUID | None = Field(
        default=None, description="A ward officer of the report's ward; null to unassign."
    )
    priority: ReportPriority | None = Field(default=None, examples=["high"])


class ReportRead(RecordRead):
    """A community report."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID | None
    category: ReportCategory
    description: str
    lat: float | None = Field(examples=[20.9526])
    lon: float | None = Field(examples=[107.0810])
    address: str | None
    media_refs: list[str]
    attributes: dict[str, Any] = Field(examples=[{"time_of_day": "night"}])
    anonymous: bool
    reporter_id: uuid.UUID | None = Field(
        description="The reporter's account: null for anonymous reports, and shown only to "
        "the reporter, the ward's officers and administrators."
    )
    source: str = Field(examples=["app"], description="`app` or `open311`.")
    status: ReportStatus
    priority: ReportPriority
    assigned_to: uuid.UUID | None
    duplicate_of: uuid.UUID | None
    acknowledged_at: datetime | None = Field(
        description="When the police first answered (left `received`)."
    )
    resolved_at: datetime | None


class ReportCreated(ReportRead):
    """A new report; an anonymous one carries its tracking code, shown this once."""

    tracking_code: str | None = Field(
        default=None,
        description="Anonymous reports only: keep it to follow the report with "
        "`POST /api/v1/reports/track`. It is not shown again and cannot be recovered.",
        examples=["wtc_Xq3v0m5n8x1c4z7bA9d2kQ"],
    )


TrackingCode = Annotated[str, Text(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class TrackRequest(InputModel):
    """The tracking code of an anonymous report, in the body: a code in a URL would rest
    in every proxy's access log beside the sender's address."""

    tracking_code: TrackingCode = Field(examples=["wtc_Xq3v0m5n8x1c4z7bA9d2kQ"])


class PublicUpdateRead(ReadModel):
    """A public entry of a report's history."""

    created_at: datetime
    kind: str = Field(examples=["transition"])
    to_status: ReportStatus | None
    note: str | None = Field(examples=["Công an phường đã cử tổ tuần tra đến kiểm tra."])


class TrackedReportRead(ReadModel):
    """What a tracking code shows: the status and the public notes, nothing else."""

    category: ReportCategory
    status: ReportStatus
    province_code: ProvinceCode
    ward_code: WardCode
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    updates: list[PublicUpdateRead]


class ReportStatisticsRead(ReadModel):
    """Counts and times to acknowledge for a unit and period."""

    unit_code: str = Field(examples=["06688"])
    since: datetime | None = Field(alias="from", serialization_alias="from")
    until: datetime | None = Field(alias="to", serialization_alias="to")
    total: int = Field(examples=[120])
    by_status: dict[str, int] = Field(examples=[{"received": 4, "resolved": 98}])
    by_category: dict[str, int] = Field(examples=[{"noise": 31, "theft": 12}])
    acknowledged: int = Field(description="Reports the police have answered.", examples=[116])
    median_seconds_to_acknowledge: float | None = Field(examples=[1260.0])
    p90_seconds_to_acknowledge: float | None = Field(examples=[5400.0])
