"""The camera registry: reading cameras, registering, changing and removing them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.cameras import Camera
from app.pagination import CursorCodec, PageParams
from app.schemas.cameras import CameraCreate, CameraUpdate
from app.security import Principal, Role
from app.services.cameras.access import (
    CAMERAS,
    can_change_camera,
    can_register_camera,
    owner_limits,
    present,
)
from app.services.cameras.counts import open_items_of
from app.services.cameras.geo import Near
from app.services.cameras.near import list_near
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.units import province_of_ward
from app.services.users import holds_role

# Vietnam has one time zone and no daylight saving.
_VIETNAM = timedelta(hours=7)

# --- reads --------------------------------------------------------------------


async def list_cameras(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    filters: Mapping[Any, Any],
    near: Near | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Visible cameras, oldest first; with ``near``, nearest first with their distance."""
    plain = {k: (v.value if hasattr(v, "value") else v) for k, v in filters.items()}
    if near is not None:
        return await list_near(session, principal, page, codec, plain, near)
    rows, next_cursor = await CAMERAS.page(session, principal, page, codec, **plain)
    return [present(principal, row) for row in rows], next_cursor


async def get_camera(
    session: AsyncSession, principal: Principal, camera_id: uuid.UUID
) -> dict[str, Any]:
    """One visible camera, owner details masked as the principal's role requires."""
    return present(principal, await CAMERAS.get(session, principal, camera_id))


# --- writes -------------------------------------------------------------------

_NOT_NULL = {
    "owner_kind",
    "owner_name",
    "label",
    "address",
    "lat",
    "lon",
    "retention_days",
    "sharing",
    "status",
}


async def _check_neighbourhood(
    session: AsyncSession, ward_code: str, neighbourhood_id: uuid.UUID
) -> None:
    if await NEIGHBOURHOODS.find(session, None, neighbourhood_id, ward_code=ward_code) is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"Ward {ward_code} has no neighbourhood with the id {neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )


async def _check_owner_account(session: AsyncSession, ward_code: str, user_id: uuid.UUID) -> None:
    # As before: a deactivated owner's account may still be named.
    if not await holds_role(session, user_id, Role.CAMERA_OWNER, ward_code=ward_code, active=False):
        raise ValidationFailed.field(
            ("body", "owner_user_id"),
            f"owner_user_id must name a camera_owner account of ward {ward_code}.",
        )


def _check_verified_on(value: date | None) -> None:
    if value is not None and value > (utcnow() + _VIETNAM).date():
        raise ValidationFailed.field(
            ("body", "last_verified_on"),
            "last_verified_on cannot be in the future.",
            FieldErrorType.DATE_PAST,
        )


async def create_camera(session: AsyncSession, principal: Principal, data: CameraCreate) -> Camera:
    """Register a camera (a camera owner's own; officers in their ward; admins anywhere)."""
    province_code = await province_of_ward(session, data.ward_code)
    if province_code is None:
        raise ValidationFailed.field(
            ("body", "ward_code"),
            f"No ward has the code {data.ward_code!r}.",
            FieldErrorType.NOT_FOUND,
        )
    reason = can_register_camera(principal, data.ward_code)
    if reason:
        raise Forbidden(reason)
    values = data.model_dump()
    owner_limits(principal, data.model_dump(exclude_none=True))
    if principal.role is Role.CAMERA_OWNER:
        values["owner_user_id"] = principal.subject
    elif values["owner_user_id"] is not None:
        await _check_owner_account(session, data.ward_code, values["owner_user_id"])
    if data.neighbourhood_id is not None:
        await _check_neighbourhood(session, data.ward_code, data.neighbourhood_id)
    _check_verified_on(data.last_verified_on)
    camera = Camera(province_code=province_code, **values)
    fields = data.model_fields_set | {"ward_code", "owner_kind", "label", "lat", "lon"}
    return await CAMERAS.insert(session, principal, camera, fields=fields)


async def _changeable(session: AsyncSession, principal: Principal, camera_id: uuid.UUID) -> Camera:
    camera = await CAMERAS.get_for_update(session, principal, camera_id)
    reason = can_change_camera(principal, camera)
    if reason:
        raise Forbidden(reason)
    return camera


async def update_camera(
    session: AsyncSession,
    principal: Principal,
    camera_id: uuid.UUID,
    expected_version: int,
    data: CameraUpdate,
) -> Camera:
    """Change a camera, if it is still at ``expected_version``."""
    camera = await _changeable(session, principal, camera_id)
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(name for name in _NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    owner_limits(principal, changes)
    if changes.get("owner_user_id") is not None and principal.role is not Role.CAMERA_OWNER:
        await _check_owner_account(session, camera.ward_code, changes["owner_user_id"])
    if changes.get("neighbourhood_id") is not None:
        await _check_neighbourhood(session, camera.ward_code, changes["neighbourhood_id"])
    _check_verified_on(changes.get("last_verified_on"))
    return await CAMERAS.update(
        session, principal, camera, expected_version, dict(changes), fields=changes
    )


async def delete_camera(
    session: AsyncSession, principal: Principal, camera_id: uuid.UUID, expected_version: int
) -> None:
    """Remove a camera from the registry, unless a footage request still waits on it."""
    camera = await _changeable(session, principal, camera_id)
    open_items = await open_items_of(session, camera.id)
    if open_items:
        raise Conflict(
            f"The camera is in {open_items} open footage requests; "
            "close them first, or set its status to decommissioned."
        )
    await CAMERAS.delete(session, principal, camera, expected_version)
