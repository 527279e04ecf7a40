"""Request and response bodies for footage requests and their chain of custody."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from app.models.footage_requests import CustodyAction, ItemStatus
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

CaseCode = Annotated[
    str,
    Text(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]*$"),
]
Sha256 = Annotated[
    str,
    Text(pattern=r"^[0-9a-fA-F]{64}$"),
    StringConstraints(to_lower=True),
    Field(
        description="SHA-256 of the handed-over file, 64 hex digits.",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    ),
]
Note = Annotated[str, MultilineText(min_length=1, max_length=1000)]
CameraIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)]


class FootageRequestCreate(InputModel):
    """An officer's request for footage from cameras of their ward."""

    case_code: CaseCode = Field(examples=["HL-2026-0142"])
    reason: Annotated[str, MultilineText(min_length=1, max_length=2000)] = Field(
        examples=["Trộm xe máy trước số 112 Lê Thánh Tông"]
    )
    window_start: Timestamp = Field(examples=["2026-11-28T13:00:00+07:00"])
    window_end: Timestamp = Field(
        description="At most 24 hours after window_start, and not in the future.",
        examples=["2026-11-28T15:00:00+07:00"],
    )
    camera_ids: CameraIds = Field(
        description="1 to 50 cameras of your ward whose sharing is not `none`."
    )
    respond_by: Timestamp = Field(
        description="The deadline for owners: in the future, before any camera's footage "
        "of the window expires.",
        examples=["2026-11-30T17:00:00+07:00"],
    )


class Decision(StrEnum):
    """An owner's answer for their cameras."""

    ACCEPT = "accept"
    DECLINE = "decline"


class FootageResponse(InputModel):
    """The owner's answer for some or all of their cameras in a request."""

    decision: Decision = Field(examples=["accept"])
    camera_ids: CameraIds | None = Field(
        default=None,
        description="Which cameras; omit for every camera still pending that you answer for.",
    )
    note: Note | None = Field(
        default=None,
        description="A note for the officer (an acceptance's) or for yourself (a decline's "
        "note is never shown to officers).",
        examples=["Bản ghi có tại cửa hàng, đến lấy sau 17h"],
    )


class FootageHandover(InputModel):
    """The file handed over for one camera: its hash, where it is kept, its size."""

    camera_id: uuid.UUID
    sha256: Sha256
    media_ref: Annotated[str, Text(min_length=1, max_length=500)] = Field(
        description="Where the file is kept: an evidence-store reference, not the file.",
        examples=["evidence://HL-2026-0142/cong-truoc.mp4"],
    )
    size_bytes: int = Field(ge=1, le=2**53, examples=[734003200])


class FootageClose(InputModel):
    """Close handed-over cameras of a request."""

    camera_ids: CameraIds | None = Field(
        default=None, description="Which cameras; omit for every handed-over camera."
    )


class FootageRequestItemRead(ReadModel):
    """One camera of a request and where it stands.

    To anyone but the camera's owner a declined camera shows only its status."""

    camera_id: uuid.UUID
    camera_label: str = Field(examples=["Cổng trước, nhìn ra đường Lê Thánh Tông"])
    status: ItemStatus = Field(examples=["accepted"])
    response_note: str | None = Field(examples=["Bản ghi có tại cửa hàng, đến lấy sau 17h"])
    responded_at: datetime | None
    sha256: str | None = Field(examples=[None])
    media_ref: str | None = Field(examples=[None])
    size_bytes: int | None = Field(examples=[None])
    handed_over_at: datetime | None
    closed_at: datetime | None


class FootageRequestRead(RecordRead):
    """A footage request with the cameras you may see in it.

    `status` is `open` while any camera is pending, accepted or handed over,
    else `closed`."""

    province_code: ProvinceCode
    ward_code: WardCode
    case_code: str = Field(examples=["HL-2026-0142"])
    reason: str = Field(examples=["Trộm xe máy trước số 112 Lê Thánh Tông"])
    window_start: datetime
    window_end: datetime
    respond_by: datetime
    requested_by: uuid.UUID
    status: str = Field(examples=["open"])
    items: list[FootageRequestItemRead]


class CustodyEventRead(ReadModel):
    """One step of the chain of custody."""

    sequence: int = Field(examples=[3])
    at: datetime
    action: CustodyAction = Field(examples=["handed_over"])
    camera_id: uuid.UUID
    actor_id: uuid.UUID | None
    actor_kind: str = Field(examples=["user"])
    actor_role: str | None = Field(examples=["camera_owner"])
    sha256: str | None = Field(
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )
    media_ref: str | None = Field(examples=["evidence://HL-2026-0142/cong-truoc.mp4"])
    size_bytes: int | None = Field(examples=[734003200])
    prev_hash: str
    hash: str


class CustodyVerification(ReadModel):
    """Whether the stored chain still holds, recomputed from every event."""

    holds: bool
    events_checked: int = Field(examples=[7])
    broken_at_sequence: int | None = Field(
        description="The first event that does not verify; null when the chain holds.",
        examples=[None],
    )
    detail: str = Field(examples=["All 7 events verify and end at the recorded head."])


class CustodyRead(ReadModel):
    """The chain of custody of a request (a camera owner sees their cameras' events)."""

    footage_request_id: uuid.UUID
    head_hash: str
    events: list[CustodyEventRead]
    verification: CustodyVerification | None = Field(
        description="Present with `?verify=true`.", default=None
    )


__all__ = [
    "CustodyEventRead",
    "CustodyRead",
    "CustodyVerification",
    "Decision",
    "FootageClose",
    "FootageHandover",
    "FootageRequestCreate",
    "FootageRequestItemRead",
    "FootageRequestRead",
    "FootageResponse",
]
