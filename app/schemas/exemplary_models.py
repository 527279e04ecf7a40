"""Request and response bodies for exemplary-model designations."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from app.schemas.common import InputModel, MultilineText, ProvinceCode, RecordRead, Text, WardCode
from app.schemas.groups import GroupKind

Year = Annotated[int, Field(ge=1990, le=2100, examples=[2025])]
DecisionNo = Annotated[str, Text(min_length=1, max_length=64), Field(examples=["312/QĐ-UBND"])]
Citation = Annotated[
    str,
    MultilineText(min_length=1, max_length=2000),
    Field(examples=["Mô hình “Khu phố không có tội phạm ma túy” tiêu biểu năm 2025."]),
]


class ExemplaryModelCreate(InputModel):
    """Designate a group an exemplary model for a year (one designation per group and year)."""

    group_id: uuid.UUID
    year: Year
    decision_no: DecisionNo
    citation: Citation | None = None


class ExemplaryModelUpdate(InputModel):
    """Changes to a designation; send only what changes."""

    year: Year | None = None
    decision_no: DecisionNo | None = None
    citation: Citation | None = None


class ExemplaryModelRead(RecordRead):
    """A group's designation as an exemplary model (mô hình điển hình) for a year."""

    province_code: ProvinceCode
    ward_code: WardCode
    group_id: uuid.UUID
    group_name: str = Field(examples=["Tổ tự quản ANTT khu phố 3"])
    group_kind: GroupKind
    year: int = Field(examples=[2025])
    decision_no: str = Field(examples=["312/QĐ-UBND"])
    citation: str | None
