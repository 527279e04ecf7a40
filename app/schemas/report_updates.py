"""Request and response bodies for a report's history: transitions and notes."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from app.schemas.common import InputModel, MultilineText, ProvinceCode, RecordRead, WardCode
from app.schemas.reports import ReportPriority, ReportStatus

Note = Annotated[str, MultilineText(min_length=1, max_length=2000)]


class ReportTransitionCreate(InputModel):
    """Move a report on: received → acknowledged → in_progress → resolved, or to
    rejected or duplicate from any open status."""

    to: ReportStatus = Field(examples=["acknowledged"])
    note: Note = Field(examples=["Đã tiếp nhận, tổ tuần tra sẽ đến kiểm tra trong tối nay."])
    public: bool = Field(
        default=False,
        description="Whether the reporter (and the tracking code) see the note. "
        "Internal notes stay with officers.",
    )
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="Required with `to: duplicate`: the report this one repeats."
    )
    assigned_to: uuid.UUID | None = Field(
        default=None, description="Optionally assign a ward officer of the report's ward."
    )
    priority: ReportPriority | None = Field(default=None, examples=["high"])


class ReportNoteCreate(InputModel):
    """A note on a report, without a change of status."""

    note: Note = Field(examples=["Đã làm việc với chủ quán karaoke, cam kết tắt nhạc trước 22h."])
    public: bool = Field(default=False, description="Whether the reporter sees it.")


class ReportUpdateRead(RecordRead):
    """One entry of a report's history."""

    report_id: uuid.UUID
    province_code: ProvinceCode
    ward_code: WardCode
    kind: str = Field(
        examples=["transition"],
        description="`transition`, `note`, or `triage` (assignment or priority changed).",
    )
    from_status: ReportStatus | None
    to_status: ReportStatus | None = Field(description="The report's status after this entry.")
    note: str | None
    public: bool
    author_id: uuid.UUID | None
    assigned_to: uuid.UUID | None
    priority: ReportPriority | None
