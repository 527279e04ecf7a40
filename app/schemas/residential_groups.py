"""Request and response bodies for residential groups."""

from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas.common import (
    HeadCount,
    InputModel,
    ProvinceCode,
    RecordRead,
    UnitLocalCode,
    UnitName,
    WardCode,
)


class ResidentialGroupRead(RecordRead):
    """A residential group (tổ dân phố) inside a neighbourhood."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    code: str = Field(examples=["T12"])
    name: str = Field(examples=["Tổ 12"])
    households: int = Field(examples=[58])
    population: int = Field(examples=[221])


class ResidentialGroupCreate(InputModel):
    """A new residential group in a neighbourhood."""

    neighbourhood_id: uuid.UUID
    code: UnitLocalCode = Field(examples=["T234"], description="Unique inside the neighbourhood.")
    name: UnitName = Field(examples=["Tổ 234"])
    households: HeadCount = Field(default=0, examples=[52])
    population: HeadCount = Field(default=0, examples=[198])


class ResidentialGroupUpdate(InputModel):
    """Changes to a residential group; send only what changes."""

    code: UnitLocalCode | None = None
    name: UnitName | None = None
    households: HeadCount | None = None
    population: HeadCount | None = None
