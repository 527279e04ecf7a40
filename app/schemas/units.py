"""Request and response bodies for administrative units."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import ProvinceCode, ReadModel, WardCode


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
