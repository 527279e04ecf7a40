"""Request and response bodies for neighbourhoods."""

from __future__ import annotations

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


class NeighbourhoodRead(RecordRead):
    """A neighbourhood (khu phố / thôn) inside a ward."""

    province_code: ProvinceCode
    ward_code: WardCode
    code: str = Field(examples=["KP03"])
    name: str = Field(examples=["Khu phố 3"])
    households: int = Field(examples=[520])
    population: int = Field(examples=[1980])


class NeighbourhoodCreate(InputModel):
    """A new neighbourhood in a ward."""

    ward_code: WardCode
    code: UnitLocalCode = Field(examples=["KP28"], description="Unique inside the ward.")
    name: UnitName = Field(examples=["Khu phố 28"])
    households: HeadCount = Field(default=0, examples=[410])
    population: HeadCount = Field(default=0, examples=[1560])


class NeighbourhoodUpdate(InputModel):
    """Changes to a neighbourhood; send only what changes (it cannot move ward)."""

    code: UnitLocalCode | None = None
    name: UnitName | None = None
    households: HeadCount | None = None
    population: HeadCount | None = None
