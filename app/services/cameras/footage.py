"""Footage requests: who sees them, asking for footage, and reading the chain of custody.

The steps each camera takes (respond, hand over, close) are in ``steps``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_row, fetch_rows, utcnow, uuid7
from app.errors import FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.cameras import Camera, CameraStatus, Sharing
from app.models.footage_requests import (
    OPEN_STATUSES,
    CustodyAction,
    FootageRequest,
    FootageRequestItem,
    ItemStatus,
)
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.footage_requests import (
    CustodyEventRead,
    CustodyRead,
    FootageRequestCreate,
    FootageRequestItemRead,
    FootageRequestRead,
)
from app.security import Principal, Role
from app.services import audit as audit_service
from app.services.cameras import custody

MAX_WINDOW = timedelta(hours=24)

_REQUEST_COLUMNS = columns(
    FootageRequest.id,
    FootageRequest.province_code,
    FootageRequest.ward_code,
    FootageRequest.case_code,
    FootageRequest.reason,
    FootageRequest.window_start,
    FootageRequest.window_end,
    FootageRequest.respond_by,
    FootageRequest.requested_by,
    FootageRequest.created_at,
    FootageRequest.updated_at,
    FootageRequest.version,
)
ITEM_COLUMNS = (
    *columns(
        FootageRequestItem.id,
        FootageRequestItem.footage_request_id,
        FootageRequestItem.camera_id,
        FootageRequestItem.status,
        FootageRequestItem.response_note,
        FootageRequestItem.responded_at,
        FootageRequestItem.sha256,
        FootageRequestItem.media_ref,
        FootageRequestItem.size_bytes,
        FootageRequestItem.handed_over_at,
        FootageRequestItem.closed_at,
    ),
    col(Camera.label).label("camera_label"),
    col(Camera.owner_user_id).label("owner_user_id"),
)
# Newest first: an officer's desk, an owner's inbox.
FOOTAGE_REQUESTS = Keyset(
    "footage-requests",
    columns(FootageRequest.created_at, FootageRequest.id),
    descending=True,
)


# --- who sees what ------------------------------------------------------------


def _own_cameras(principal: Principal) -> Any:
    return select(col(Camera.id)).where(col(Camera.owner_user_id) == principal.subject)


def visible_items(principal: Principal) -> ColumnElement[bool]:
    """The items of a visible request a principal may see: a camera owner, only their cameras'."""
    if principal.role is Role.CAMERA_OWNER:
        return col(FootageRequestItem.camera_id).in_(_own_cameras(principal))
    if principal.role in (Role.ADMIN, Role.WARD_OFFICER):
        return true()
    return false()


def _visible(principal: Principal) -> ColumnElement[bool]:
    """The requests a principal may see: officers their ward's, owners those that ask them."""
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.WARD_OFFICER and principal.ward_code:
        return col(FootageRequest.ward_code) == principal.ward_code
    if principal.role is Role.CAMERA_OWNER:
        return _has_item(principal)
    return false()


def _has_item(principal: Principal, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(col(FootageRequestItem.id)).where(
            col(FootageRequestItem.footage_request_id) == col(FootageRequest.id),
            visible_items(principal),
            *conditions,
        )
    )


# --- reads --------------------------------------------------------------------


def _present_item(principal: Principal, row: Mapping[Any, Any]) -> FootageRequestItemRead:
    item = dict(row)
    # A decline is not held against the owner: others see the status, nothing more.
    if item["status"] == ItemStatus.DECLINED and item["owner_user_id"] != principal.subject:
        item["response_note"] = None
        item["responded_at"] = None
    return FootageRequestItemRead.model_validate(item)


async def _items_of(
    session: AsyncSession, principal: Principal, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FootageRequestItemRead]]:
    statement = (
        select(*ITEM_COLUMNS)
        .join(Camera, col(Camera.id) == col(FootageRequestItem.camera_id))
        .where(
            col(FootageRequestItem.footage_request_id).in_(request_ids), visible_items(principal)
        )
        .order_by(col(Camera.label), col(FootageRequestItem.camera_id))
    )
    grouped: dict[uuid.UUID, list[FootageRequestItemRead]] = {i: [] for i in request_ids}
    for row in await fetch_rows(session, statement):
        grouped[row.footage_request_id].append(_present_item(principal, row._mapping))
    return grouped


def _present(row: Mapping[Any, Any], items: list[FootageRequestItemRead]) -> FootageRequestRead:
    is_open = any(item.status in OPEN_STATUSES for item in items)
    return FootageRequestRead.model_validate(
        {**row, "items": items, "status": "open" if is_open else "closed"}
    )


async def list_footage_requests(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    ward_code: str | None = None,
    case_code: str | None = None,
    camera_id: uuid.UUID | None = None,
    status: ItemStatus | None = None,
) -> tuple[list[FootageRequestRead], str | None]:
    """Visible requests, newest first, by ward, case, camera or a camera's status."""
    statement = select(*_REQUEST_COLUMNS).where(_visible(principal))
    if ward_code:
        statement = statement.where(col(FootageRequest.ward_code) == ward_code)
    if case_code:
        statement = statement.where(col(FootageRequest.case_code) == case_code)
    if camera_id:
        statement = statement.where(
            _has_item(principal, col(FootageRequestItem.camera_id) == camera_id)
        )
    if status:
        statement = statement.where(
            _has_item(principal, col(FootageRequestItem.status) == status.value)
        )
    filters = {
        "ward_code": ward_code,
        "case_code": case_code,
        "camera_id": camera_id,
        "status": status.value if status else None,
    }
    rows, next_cursor = await fetch_page(session, statement, FOOTAGE_REQUESTS, page, codec, filters)
    items = await _items_of(session, principal, [row.id for row in rows])
    return [_present(row._mapping, items[row.id]) for row in rows], next_cursor


async def visible_row(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> Mapping[Any, Any]:
    row = await fetch_row(
        session,
        select(*_REQUEST_COLUMNS).where(col(FootageRequest.id) == request_id, _visible(principal)),
    )
    if row is None:
        raise NotFound(f"No footage request has the id {request_id}.")
    return row._mapping


async def get_footage_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> FootageRequestRead:
    """One visible request with the cameras the principal may see in it."""
    row = await visible_row(session, principal, request_id)
    items = await _items_of(session, principal, [request_id])
    return _present(row, items[request_id])


# --- creating a request -------------------------------------------------------


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
    statement = select(
        *columns(
            Camera.id,
            Camera.province_code,
            Camera.ward_code,
            Camera.label,
            Camera.sharing,
            Camera.status,
            Camera.retention_days,
        )
    ).where(col(Camera.id).in_(data.camera_ids), col(Camera.deleted_at).is_(None))
    if principal.role is not Role.ADMIN:
        statement = statement.where(col(Camera.ward_code) == principal.ward_code)
    found = {row.id: row._mapping for row in await fetch_rows(session, statement)}
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
    session.add(request)
    await session.flush()
    for camera in cameras:
        session.add(
            FootageRequestItem(
                footage_request_id=request.id,
                camera_id=camera["id"],
                province_code=request.province_code,
                ward_code=request.ward_code,
                status=ItemStatus.PENDING.value,
            )
        )
    await session.flush()
    await custody.append(
        session,
        principal,
        request.id,
        [custody.Step(camera["id"], CustodyAction.REQUESTED) for camera in cameras],
        now,
    )
    audit_service.record(
        session,
        principal,
        "create",
        "footage_request",
        request.id,
        province_code=request.province_code,
        ward_code=request.ward_code,
        changed_fields=data.model_fields_set,
    )
    return await get_footage_request(session, principal, request.id)


# --- the chain of custody -----------------------------------------------------


async def get_custody(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, verify: bool = False
) -> CustodyRead:
    """The custody chain (an owner sees their cameras' events); ``verify`` rechecks every hash."""
    await visible_row(session, principal, request_id)
    head = await fetch_row(
        session,
        select(*columns(FootageRequest.custody_length, FootageRequest.custody_head)).where(
            col(FootageRequest.id) == request_id
        ),
    )
    assert head is not None
    events = await custody.events_of(session, request_id)
    verification = (
        custody.verify(events, head.custody_length, head.custody_head) if verify else None
    )
    if principal.role is Role.CAMERA_OWNER:
        own = {row[0] for row in await fetch_rows(session, _own_cameras(principal))}
        events = [event for event in events if event["camera_id"] in own]
    return CustodyRead(
        footage_request_id=request_id,
        head_hash=head.custody_head,
        events=[
            CustodyEventRead.model_validate({**event, "at": event["created_at"]})
            for event in events
        ],
        verification=verification,
    )
