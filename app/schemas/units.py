"""Request and response bodies for administrative units."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from app.schemas.common import InputModel, ProvinceCode, ReadModel, RecordRead, WardCode


class ProvinceRead(ReadModel):
    """An official province."""

    code: ProvinceCode
    name: str = Field(examples=["Tỉnh Quảng Ninh"])
    division_type: str = Field(examples=["tỉnh"])
    ward_count: int = Field(examples=[54], description="Wards and communes in the province.")


class WardRead(ReadModel):
    """An official ward, commune or special zone."""

    code: WardCode
    name: str = Field(examples=["Phường Hạ Long"])
    division_type: str = Field(examples=["phường"])
    province_code: ProvinceCode


class NeighbourhoodRead(RecordRead):
    """A neighbourhood (khu phố / thôn) inside a ward."""

    province_code: ProvinceCode
    ward_code: WardCode
    code: str = Field(examples=["KP03"])
    name: str = Field(examples=["Khu phố 3"])
    households: int = Field(examples=[520])
    population: int = Field(examples=[1980])


class ResidentialGroupRead(RecordRead):
    """A residential group (tổ dân phố) inside a neighbourhood."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID
    code: str = Field(examples=["T12"])
    name: str = Field(examples=["Tổ 12"])
    households: int = Field(examples=[58])
    population: int = Field(examples=[221])


Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]


class NeighbourhoodCreate(InputModel):
    """A new neighbourhood in a ward."""

    ward_code: WardCode
    code: Code = Field(examples=["KP28"], description="Unique inside the ward.")
    name: Name = Field(examples=["Khu phố 28"])
    households: Count = Field(default=0, examples=[410])
    population: Count = Field(default=0, examples=[1560])


class NeighbourhoodUpdate(InputModel):
    """Changes to a neighbourhood; send only what changes (it cannot move ward)."""

    code: Code | None = None
    name: Name | None = None
    households: Count | None = None
    population: Count | None = None


class ResidentialGroupCreate(InputModel):
    """A new residential group in a neighbourhood."""

    neighbourhood_id: uuid.UUID
    code: Code = Field(examples=["T234"], description="Unique inside the neighbourhood.")
    name: Name = Field(examples=["Tổ 234"])
    households: Count = Field(default=0, examples=[52])
    population: Count = Field(default=0, examples=[198])


class ResidentialGroupUpdate(InputModel):
    """Changes to a residential group; send only what changes."""

    code: Code | None = None
    name: Name | None = None
    households: Count | None = None
    population: Count | None = None
