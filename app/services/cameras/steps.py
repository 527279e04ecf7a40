"""The steps of a footage request's cameras: respond, hand over, close; each joins the chain."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import FieldErrorType, Forbidden, InvalidTransition, ValidationFailed
from app.models.footage_requests import TRANSITIONS, CustodyAction, ItemStatus
from app.schemas.footage_requests import (
    Decision,
    FootageClose,
    FootageHandover,
    FootageRequestRead,
    FootageResponse,
)
from app.security import Principal, Role
from app.services.cameras import custody
from app.services.cameras.footage import get_footage_request, visible_row
from app.services.cameras.footage_access import ITEM_WRITES, ITEMS_OF, REQUEST_WRITES

# --- who may take which step --------------------------------------------------


def can_answer(principal: Principal, ward_code: str, owner_user_id: uuid.UUID | None) -> str | None:
    """Why ``principal`` may not accept or decline for a camera (None: it may).

    The owner answers; for a camera whose owner has no account, an officer
    of the ward records the owner's answer."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.CAMERA_OWNER and owner_user_id == principal.subject:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        if owner_user_id is None:
            return None
        return "The camera's owner answers for it through their own account."
    return "Only the camera's owner answers a footage request."


def can_hand_over(
    principal: Principal, ward_code: str, owner_user_id: uuid.UUID | None
) -> str | None:
    """Why ``principal`` may not record a handover for a camera (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        return None
    if principal.role is Role.CAMERA_OWNER and owner_user_id == principal.subject:
        return None
    return "Only the camera's owner or an officer of the ward records a handover."


def can_close(principal: Principal, ward_code: str) -> str | None:
    """Why ``principal`` may not close cameras of a request (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        return None
    return "Only officers of the ward close footage requests."


# --- the steps ----------------------------------------------------------------


async def _locked_items(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, now: datetime
) -> tuple[Any, list[Mapping[Any, Any]]]:
    """The request and its items the principal may see, read after locking the request.

    Bumping the request's version first takes its row lock (PostgreSQL) or
    the write lock (SQLite): concurrent transitions of one request queue up,
    each reads the items as the one before it left them, and custody events
    are appended one after another."""
    request = await visible_row(session, principal, request_id)
    await REQUEST_WRITES.bump(session, request_id, {"updated_at": now})
    items = await ITEMS_OF.of(session, principal, [request_id])
    return request, [item._asdict() for item in items[request_id]]


def _pick(
    items: list[Mapping[Any, Any]], camera_ids: Sequence[uuid.UUID]
) -> list[Mapping[Any, Any]]:
    by_camera = {item["camera_id"]: item for item in items}
    unknown = [str(i) for i in camera_ids if i not in by_camera]
    if unknown:
        raise ValidationFailed.field(
            ("body", "camera_ids"),
            f"This request asks you about no camera with the id {', '.join(unknown)}.",
            FieldErrorType.NOT_FOUND,
        )
    if len(set(camera_ids)) != len(camera_ids):
        raise ValidationFailed.field(
            ("body", "camera_ids"), "camera_ids lists a camera twice.", FieldErrorType.DUPLICATE
        )
    return [by_camera[i] for i in camera_ids]


def _check_transition(items: Sequence[Mapping[Any, Any]], target: ItemStatus) -> None:
    """409 naming each camera that cannot move to ``target`` from where it is."""
    stuck = [item for item in items if target not in TRANSITIONS[ItemStatus(item["status"])]]
    if not stuck:
        return
    conflicts = [
        {
            "camera_id": str(item["camera_id"]),
            "current_status": item["status"],
            "allowed": [s.value for s in TRANSITIONS[ItemStatus(item["status"])]],
        }
        for item in stuck
    ]
    first = conflicts[0]
    allowed = ", ".join(first["allowed"]) or "nothing (it is final)"
    more = f" ({len(stuck) - 1} more cameras likewise)" if len(stuck) > 1 else ""
    raise InvalidTransition(
        f"Camera {first['camera_id']} is {first['current_status']}, so it cannot become "
        f"{target.value}; from {first['current_status']} it can become: {allowed}.{more}",
        conflicts=conflicts,
    )


async def _move(
    session: AsyncSession,
    items: Sequence[Mapping[Any, Any]],
    target: ItemStatus,
    now: datetime,
    values: Mapping[Any, Any],
) -> None:
    """Compare-and-set each item from its current status to ``target``."""
    _check_transition(items, target)
    for item in items:
        moved = await ITEM_WRITES.move(
            session,
            item["id"],
            {"status": item["status"]},
            {"status": target.value, "updated_at": now, **values},
        )
        if not moved:  # pragma: no cover (the request lock rules it out)
            raise InvalidTransition("The camera's status changed meanwhile; read it again.")


async def _finish(
    session: AsyncSession,
    principal: Principal,
    request: Any,
    action: str,
    fields: Iterable[str],
) -> None:
    """The step's one event, the request's: its items and custody events are its parts."""
    await REQUEST_WRITES.event(session, principal, action, request, fields)


async def respond(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, data: FootageResponse
) -> FootageRequestRead:
    """The owner accepts or declines for their cameras (pending → accepted | declined)."""
    now = utcnow()
    request, items = await _locked_items(session, principal, request_id, now)
    if data.camera_ids is None:
        chosen = [
            item
            for item in items
            if item["status"] == ItemStatus.PENDING
            and can_answer(principal, request.ward_code, item["owner_user_id"]) is None
        ]
        if not chosen:
            raise InvalidTransition(
                "No camera you answer for in this request is pending.",
                conflicts=[
                    {"camera_id": str(i["camera_id"]), "current_status": i["status"]} for i in items
                ],
            )
    else:
        chosen = _pick(items, data.camera_ids)
        for item in chosen:
            reason = can_answer(principal, request.ward_code, item["owner_user_id"])
            if reason:
                raise Forbidden(reason)
    target = ItemStatus.ACCEPTED if data.decision is Decision.ACCEPT else ItemStatus.DECLINED
    await _move(
        session,
        chosen,
        target,
        now,
        {"response_note": data.note, "responded_at": now, "responded_by": principal.subject},
    )
    action = CustodyAction.ACCEPTED if target is ItemStatus.ACCEPTED else CustodyAction.DECLINED
    await custody.append(
        session, principal, request_id, [custody.Step(i["camera_id"], action) for i in chosen], now
    )
    # "respond" for either answer: the audit trail does not tell declines apart.
    await _finish(session, principal, request, "respond", ["status", "response_note"])
    return await get_footage_request(session, principal, request_id)


async def hand_over(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, data: FootageHandover
) -> FootageRequestRead:
    """Record the file handed over for one accepted camera (accepted → handed_over)."""
    now = utcnow()
    request, items = await _locked_items(session, principal, request_id, now)
    [item] = _pick(items, [data.camera_id])
    reason = can_hand_over(principal, request.ward_code, item["owner_user_id"])
    if reason:
        raise Forbidden(reason)
    media: dict[str, Any] = {
        "sha256": data.sha256,
        "media_ref": data.media_ref,
        "size_bytes": data.size_bytes,
    }
    await _move(
        session,
        [item],
        ItemStatus.HANDED_OVER,
        now,
        {**media, "handed_over_at": now, "handed_over_by": principal.subject},
    )
    await custody.append(
        session,
        principal,
        request_id,
        [
            custody.Step(
                item["camera_id"],
                CustodyAction.HANDED_OVER,
                data.sha256,
                data.media_ref,
                data.size_bytes,
            )
        ],
        now,
    )
    await _finish(session, principal, request, "handover", ["status", *media])
    return await get_footage_request(session, principal, request_id)


async def close(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID, data: FootageClose
) -> FootageRequestRead:
    """The officer closes handed-over cameras (handed_over → closed)."""
    now = utcnow()
    request, items = await _locked_items(session, principal, request_id, now)
    reason = can_close(principal, request.ward_code)
    if reason:
        raise Forbidden(reason)
    if data.camera_ids is None:
        chosen = [item for item in items if item["status"] == ItemStatus.HANDED_OVER]
        if not chosen:
            raise InvalidTransition(
                "No camera of this request is handed_over, so none can be closed.",
                conflicts=[
                    {"camera_id": str(i["camera_id"]), "current_status": i["status"]} for i in items
                ],
            )
    else:
        chosen = _pick(items, data.camera_ids)
    await _move(
        session, chosen, ItemStatus.CLOSED, now, {"closed_at": now, "closed_by": principal.subject}
    )
    await custody.append(
        session,
        principal,
        request_id,
        [custody.Step(i["camera_id"], CustodyAction.CLOSED) for i in chosen],
        now,
    )
    await _finish(session, principal, request, "close", ["status"])
    return await get_footage_request(session, principal, request_id)
