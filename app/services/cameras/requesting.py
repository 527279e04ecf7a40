"""Asking for footage: an officer's request for a window of footage from cameras of
their ward, checked against what each camera shares and keeps."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.related import RowsOf
from app.db import utcnow, uuid7
from app.errors import FieldErrorType, Forbidden, ValidationFailed
from app.models.cameras import Camera, CameraStatus, Sharing
from app.models.footage_requests import (
    CustodyAction,
    FootageRequest,
    FootageRequestItem,
    ItemStatus,
)
from app.schemas.footage_requests import FootageRequestCreate, FootageRequestRead
from app.security import Principal, Role
from app.services.cameras import custody
from app.services.cameras.access import CAMERAS
from app.services.cameras.footage import get_footage_request
from app.services.cameras.footage_access import FOOTAGE_REQUESTS, ITEM_WRITES

MAX_WINDOW = timedelta(hours=24)

# The cameras a request names, as their caller sees them: an officer, their ward's.
_CAMERAS_BY_ID = RowsOf(CAMERAS, Camera.id)


def _named(cameras: Iterable[Mapping[Any, Any]]) -> str:
    return ", ".join(f"{c['label']} ({c['id']})" for c in cameras)


def _check_window(data: FootageRequestCreate, now: datetime) -> None:
    if data.window_end <= data.window_start:
        raise ValidationFailed.field(
            ("body", "window_end"),
            "window_end must be after window_start.",
            FieldErrorType.GREATER_THAN,
        )
    if data.window_end - data.window_start > MAX_WINDOW:
        raise ValidationFailed.field(
            ("body", "window_end"),
            "The window is at most 24 hours: ask for longer in several requests.",
            FieldErrorType.LESS_THAN_EQUAL,
        )
    if data.window_end > now:
        raise ValidationFailed.field(
            ("body", "window_end"),
            "window_end is in the future: footage not yet recorded.",
            FieldErrorType.DATETIME_PAST,
        )
    if data.respond_by <= now:
        raise ValidationFailed.field(
            ("body", "respond_by"),
            "respond_by must be in the future.",
            FieldErrorType.DATETIME_FUTURE,
        )
    if len(set(data.camera_ids)) != len(data.camera_ids):
        raise ValidationFailed.field(
            ("body", "camera_ids"), "camera_ids lists a camera twice.", FieldErrorType.DUPLICATE
        )


async def _requestable_cameras(
    session: AsyncSession, principal: Principal, data: FootageRequestCreate, now: datetime
) -> list[Mapping[Any, Any]]:
    # An officer sees the cameras of their ward, an administrator every one.
    by_id = await _CAMERAS_BY_ID.of(session, principal, data.camera_ids)
    found = {camera_id: rows[0]._asdict() for camera_id, rows in by_id.items() if rows}
    missing = [str(i) for i in data.camera_ids if i not in found]
    if missing:
        raise ValidationFailed.field(
            ("body", "camera_ids"),
            f"No camera of your ward has the id {', '.join(missing)}.",
            FieldErrorType.NOT_FOUND,
        )
    cameras: list[Mapping[Any, Any]] = [found[i] for i in data.camera_ids]
    if len({c["ward_code"] for c in cameras}) > 1:
        raise ValidationFailed.field(
            ("body", "camera_ids"), "A footage request asks cameras of one ward."
        )
    unshared = [c for c in cameras if c["sharing"] == Sharing.NONE]
    if unshared:
        raise ValidationFailed.field(
            ("body", "camera_ids"),
            f"These cameras' owners do not share footage: {_named(unshared)}.",
        )
    retired = [c for c in cameras if c["status"] == CameraStatus.DECOMMISSIONED]
    if retired:
        raise ValidationFailed.field(
            ("body", "camera_ids"), f"These cameras are decommissioned: {_named(retired)}."
        )
    # Footage older than a camera's retention no longer exists.
    expired = [c for c in cameras if data.window_start < now - timedelta(days=c["retention_days"])]
    if expired:
        raise ValidationFailed.field(
            ("body", "window_start"),
            "The window starts before the oldest footage these cameras keep: "
            + "; ".join(
                f"{c['label']} ({c['id']}) keeps {c['retention_days']} days" for c in expired
            )
            + ".",
            FieldErrorType.GREATER_THAN_EQUAL,
            camera_ids=[str(c["id"]) for c in expired],
        )
    late = [
        c
        for c in cameras
        if data.respond_by > data.window_start + timedelta(days=c["retention_days"])
    ]
    if late:
        raise ValidationFailed.field(
            ("body", "respond_by"),
            "respond_by is after the footage of the window is overwritten on "
            + "; ".join(
                f"{c['label']} ({c['id']}) at "
                f"{(data.window_start + timedelta(days=c['retention_days'])).isoformat()}"
                for c in late
            )
            + ".",
            FieldErrorType.LESS_THAN_EQUAL,
            camera_ids=[str(c["id"]) for c in late],
        )
    return cameras


async def create_footage_request(
    session: AsyncSession,
    principal: Principal,
    data: FootageRequestCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> FootageRequestRead:
    """An officer asks cameras of their ward for a window of footage."""
    if principal.role not in (Role.ADMIN, Role.WARD_OFFICER) or (
        principal.role is Role.WARD_OFFICER and not principal.ward_code
    ):
        raise Forbidden("Only ward officers request footage.")
    now = utcnow()
    _check_window(data, now)
    cameras = await _requestable_cameras(session, principal, data, now)
    request = FootageRequest(
        id=record_id or uuid7(),
        province_code=cameras[0]["province_code"],
        ward_code=cameras[0]["ward_code"],
        case_code=data.case_code,
        reason=data.reason,
        window_start=data.window_start,
        window_end=data.window_end,
        respond_by=data.respond_by,
        requested_by=principal.subject,
        requested_by_role=principal.role.value,
        custody_head=custody.GENESIS,
    )
    await FOOTAGE_REQUESTS.insert(session, principal, request, fields=data.model_fields_set)
    await ITEM_WRITES.append(
        session,
        [
            FootageRequestItem(
                footage_request_id=request.id,
                camera_id=camera["id"],
                province_code=request.province_code,
                ward_code=request.ward_code,
                status=ItemStatus.PENDING.value,
            )
            for camera in cameras
        ],
    )
    await custody.append(
        session,
        principal,
        request.id,
        [custody.Step(camera["id"], CustodyAction.REQUESTED) for camera in cameras],
        now,
    )
    return await get_footage_request(session, principal, request.id)
