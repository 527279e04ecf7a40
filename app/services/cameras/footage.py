"""Footage requests: reading them (a camera owner, only their cameras' part) and their
chain of custody.

Asking for footage is in ``requesting``; the steps each camera takes (respond,
hand over, close) in ``steps``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.footage_requests import OPEN_STATUSES, ItemStatus
from app.pagination import CursorCodec, PageParams
from app.schemas.footage_requests import (
    CustodyEventRead,
    CustodyRead,
    FootageRequestItemRead,
    FootageRequestRead,
)
from app.security import Principal, Role
from app.services.cameras import custody
from app.services.cameras.footage_access import FOOTAGE_REQUESTS, ITEMS_OF

# --- reads --------------------------------------------------------------------


def _present_item(principal: Principal, row: Any) -> FootageRequestItemRead:
    item = row._asdict()
    # A decline is not held against the owner: others see the status, nothing more.
    if item["status"] == ItemStatus.DECLINED and item["owner_user_id"] != principal.subject:
        item["response_note"] = None
        item["responded_at"] = None
    return FootageRequestItemRead.model_validate(item)


async def items_of(
    session: AsyncSession, principal: Principal, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FootageRequestItemRead]]:
    """The items of each request the principal may see, as its GET shows them."""
    grouped = await ITEMS_OF.of(session, principal, request_ids)
    return {
        request_id: [_present_item(principal, row) for row in rows]
        for request_id, rows in grouped.items()
    }


def present_request(row: Any, items: list[FootageRequestItemRead]) -> FootageRequestRead:
    """A row of ``FOOTAGE_REQUESTS`` with its items (``items_of``), as its GET answers."""
    is_open = any(item.status in OPEN_STATUSES for item in items)
    return FootageRequestRead.model_validate(
        {**row._asdict(), "items": items, "status": "open" if is_open else "closed"}
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
    filters: dict[str, Any] = {"ward_code": ward_code or None, "case_code": case_code or None}
    status_value = status.value if status else None
    if principal.role is Role.CAMERA_OWNER:
        # An owner's filters look at their own cameras of a request only.
        if camera_id or status_value:
            filters.update(
                asked_owner=principal.subject,
                own_camera_id=camera_id or None,
                own_status=status_value,
            )
    else:
        filters.update(camera_id=camera_id or None, status=status_value)
    rows, next_cursor = await FOOTAGE_REQUESTS.page(session, principal, page, codec, **filters)
    items = await items_of(session, principal, [row.id for row in rows])
    return [present_request(row, items[row.id]) for row in rows], next_cursor


async def visible_row(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> Any:
    """The visible request with this id, as a row (404 otherwise)."""
    return await FOOTAGE_REQUESTS.get(session, principal, request_id)


async def get_footage_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> FootageRequestRead:
    """One visible request with the cameras the principal may see in it."""
    row = await visible_row(session, principal, request_id)
    items = await items_of(session, principal, [request_id])
    return present_request(row, items[request_id])


# --- the chain of custody -----------------------------------------------------


async def get_custody(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, *, verify: bool = False
) -> CustodyRead:
    """The custody chain (an owner sees their cameras' events); ``verify`` rechecks every hash."""
    head = await visible_row(session, principal, request_id)
    events = await custody.events_of(session, request_id)
    verification = (
        custody.verify(events, head.custody_length, head.custody_head) if verify else None
    )
    if principal.role is Role.CAMERA_OWNER:
        # The owner's items of the request are their cameras'.
        own_items = await ITEMS_OF.of(session, principal, [request_id])
        own = {item.camera_id for item in own_items[request_id]}
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
