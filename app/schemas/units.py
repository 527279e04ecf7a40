"""Request and response bodies for administrative units."""

from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas.common import ProvinceCode, ReadModel, RecordRead, WardCode


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
