"""The camera registry: cameras of households, businesses, schools, agencies and the state."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field

from app.models.base import Record


class OwnerKind(StrEnum):
    """Who owns a camera."""

    HOUSEHOLD = "household"
    BUSINESS = "business"
    SCHOOL = "school"
    AGENCY = "agency"
    PUBLIC = "public"


class Sharing(StrEnum):
    """Whether and how the owner shares footage with the ward police."""

    NONE = "none"
    ON_REQUEST = "on_request"
    LIVE = "live"


class CameraStatus(StrEnum):
    """Whether a camera is recording."""

    ACTIVE = "active"
    OFFLINE = "offline"
    DECOMMISSIONED = "decommissioned"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Camera(Record, table=True):
    """One registered camera: where it is, what it sees, who owns it, how it shares footage."""

    __tablename__ = "cameras"
    __table_args__ = (
        # The default list's keyset, inside a ward and across wards.
        Index("ix_cameras_ward_code_created_at_id", "ward_code", "created_at", "id"),
        Index("ix_cameras_created_at_id", "created_at", "id"),
        # `near`: a range on lat, then lon, inside a ward or anywhere; the unit
        # vector, deleted_at and id ride along so the nearest are found from
        # the index alone (only the page's rows are then read whole).
        Index(
            "ix_cameras_ward_code_lat_lon",
            "ward_code",
            "lat",
            "lon",
            "unit_x",
            "unit_y",
            "unit_z",
            "deleted_at",
            "id",
        ),
        Index("ix_cameras_lat_lon", "lat", "lon", "unit_x", "unit_y", "unit_z", "deleted_at", "id"),
        CheckConstraint(_one_of("owner_kind", OwnerKind), name="owner_kind"),
        CheckConstraint(_one_of("sharing", Sharing), name="sharing"),
        CheckConstraint(_one_of("status", CameraStatus), name="status"),
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lon >= -180 AND lon <= 180", name="lon_range"),
        CheckConstraint("bearing_deg >= 0 AND bearing_deg <= 359", name="bearing_range"),
        CheckConstraint("retention_days >= 1 AND retention_days <= 365", name="retention_range"),
    )

    province_code: str = Field(foreign_key="provinces.code", max_length=2, index=True)
    ward_code: str = Field(foreign_key="wards.code", max_length=5, index=True)
    neighbourhood_id: uuid.UUID | None = Field(
        default=None, foreign_key="neighbourhoods.id", index=True
    )
    owner_kind: str = Field(max_length=16, index=True)
    # The camera_owner account that answers footage requests for it, if any.
    owner_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    # Personal data: shown only to the owner, officers of the ward and admins.
    owner_name: str = Field(max_length=200)
    owner_phone: str | None = Field(default=None, max_length=20)
    label: str = Field(max_length=200)
    address: str = Field(max_length=300)
    lat: float
    lon: float
    bearing_deg: int | None = Field(default=None)
    covers: str | None = Field(default=None, max_length=1000)
    retention_days: int
    sharing: str = Field(max_length=16, index=True)
    status: str = Field(max_length=16, index=True)
    last_verified_on: date | None = Field(default=None)
    # The position as a unit vector on the sphere, kept in step with lat and
    # lon. `near` orders cameras by the chord between two such vectors: plain
    # arithmetic, which SQLite and PostgreSQL compute bit for bit alike, and
    # which orders exactly as the great-circle distance does.
    # (Set from lat and lon before every insert and update; see below.)
    unit_x: float = 0.0
    unit_y: float = 0.0
    unit_z: float = 0.0


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """(lat, lon) in degrees as a point on the unit sphere."""
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def derived_columns(camera: Any, values: Mapping[str, Any]) -> dict[str, float]:
    """The columns a camera derives from its place: its unit vector, for ``values`` written
    over ``camera`` (a new camera: none, its own place). Empty when the place stays.

    The one place they are computed: the unit of write applies it on every
    insert and update (app/services/cameras/access.py), and records made outside a
    request (demo data, tests) apply it the same way."""
    if values and "lat" not in values and "lon" not in values:
        return {}
    x, y, z = unit_vector(values.get("lat", camera.lat), values.get("lon", camera.lon))
    return {"unit_x": x, "unit_y": y, "unit_z": z}


def placed(camera: Camera) -> Camera:
    """``camera`` with the columns it derives from its place filled in."""
    for name, value in derived_columns(camera, {}).items():
        setattr(camera, name, value)
    return camera


__all__ = [
    "Camera",
    "CameraStatus",
    "OwnerKind",
    "Sharing",
    "derived_columns",
    "placed",
    "unit_vector",
]
