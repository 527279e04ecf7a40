"""Request and response bodies for the camera registry."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field

from app.models.cameras import CameraStatus, OwnerKind, Sharing
from app.schemas.common import (
    Day,
    InputModel,
    MultilineText,
    ProvinceCode,
    RecordRead,
    Text,
    WardCode,
)

Label = Annotated[str, Text(min_length=1, max_length=200)]
Address = Annotated[str, Text(min_length=1, max_length=300)]
OwnerName = Annotated[str, Text(min_length=1, max_length=200)]
Phone = Annotated[str, Text(pattern=r"^\+?[0-9]{8,15}$")]
Covers = Annotated[str, MultilineText(min_length=1, max_length=1000)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Bearing = Annotated[int, Field(ge=0, le=359)]
RetentionDays = Annotated[int, Field(ge=1, le=365)]


class CameraCreate(InputModel):
    """A new camera. A camera owner registers their own cameras, in their own ward."""

    ward_code: WardCode
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, description="A neighbourhood of the same ward."
    )
    owner_kind: OwnerKind = Field(examples=["business"])
    owner_user_id: uuid.UUID | None = Field(
        default=None,
        description="The camera_owner account that answers footage requests for it; "
        "a camera owner registering a camera is its owner.",
    )
    owner_name: OwnerName = Field(examples=["Cửa hàng Minh Phát"])
    owner_phone: Phone | None = Field(default=None, examples=["0912345678"])
    label: Label = Field(examples=["Cổng trước, nhìn ra đường Lê Thánh Tông"])
    address: Address = Field(examples=["112 Lê Thánh Tông, Khu phố 3"])
    lat: Latitude = Field(examples=[20.9526])
    lon: Longitude = Field(examples=[107.0812])
    bearing_deg: Bearing | None = Field(
        default=None, description="Compass bearing it faces, 0 to 359.", examples=[135]
    )
    covers: Covers | None = Field(default=None, examples=["Vỉa hè và hai làn đường trước cửa hàng"])
    retention_days: RetentionDays = Field(
        default=30, description="Days footage is kept (1 to 365).", examples=[30]
    )
    sharing: Sharing = Field(default=Sharing.ON_REQUEST, examples=["on_request"])
    status: CameraStatus = Field(default=CameraStatus.ACTIVE, examples=["active"])
    last_verified_on: Day | None = Field(
        default=None,
        description="When an officer last checked it (officers only).",
        examples=["2026-11-02"],
    )


class CameraUpdate(InputModel):
    """Changes to a camera; send only what changes (it cannot move to another ward)."""

    neighbourhood_id: uuid.UUID | None = None
    owner_kind: OwnerKind | None = None
    owner_user_id: uuid.UUID | None = None
    owner_name: OwnerName | None = None
    owner_phone: Phone | None = None
    label: Label | None = None
    address: Address | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    bearing_deg: Bearing | None = None
    covers: Covers | None = None
    retention_days: RetentionDays | None = None
    sharing: Sharing | None = None
    status: CameraStatus | None = None
    last_verified_on: Day | None = None


class CameraRead(RecordRead):
    """A camera. `owner_user_id`, `owner_name` and `owner_phone` are personal data: they are
    null unless you are the owner, an officer of the camera's ward or an administrator."""

    province_code: ProvinceCode
    ward_code: WardCode
    neighbourhood_id: uuid.UUID | None
    owner_kind: OwnerKind = Field(examples=["business"])
    owner_user_id: uuid.UUID | None
    owner_name: str | None = Field(examples=["Cửa hàng Minh Phát"])
    owner_phone: str | None = Field(examples=["0912345678"])
    label: str = Field(examples=["Cổng trước, nhìn ra đường Lê Thánh Tông"])
    address: str = Field(examples=["112 Lê Thánh Tông, Khu phố 3"])
    lat: float = Field(examples=[20.9526])
    lon: float = Field(examples=[107.0812])
    bearing_deg: int | None = Field(examples=[135])
    covers: str | None = Field(examples=["Vỉa hè và hai làn đường trước cửa hàng"])
    retention_days: int = Field(examples=[30])
    sharing: Sharing = Field(examples=["on_request"])
    status: CameraStatus = Field(examples=["active"])
    last_verified_on: date | None = Field(examples=["2026-11-02"])
    distance_m: float | None = Field(
        default=None,
        description="Great-circle distance from `near`, in metres (0.1 m); null without `near`.",
        examples=[137.4],
    )
