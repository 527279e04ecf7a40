"""Broadcasts: officers send legal knowledge and warnings to units; residents read the live
ones sent to where they live. Acknowledgements and reach: ``broadcast_acknowledgements``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, literal, or_, select, true
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement, BroadcastTarget
from app.models.units import Neighbourhood, ResidentialGroup, Ward
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.broadcasts import BroadcastCreate, BroadcastUpdate
from app.security import Principal, Role
from app.services import audit as audit_service

# People who live in the units a broadcast targets; officers send, they receive.
RECIPIENT_ROLES = (Role.RESIDENT, Role.CAMERA_OWNER, Role.NEIGHBOURHOOD_HEAD, Role.GROUP_LEADER)
OVERSEER_ROLES = (Role.ADMIN, Role.PROVINCE_OFFICER, Role.WARD_OFFICER, Role.WARD_SYSTEM)

BROADCASTS = Keyset("broadcasts", columns(Broadcast.publish_at, Broadcast.id), descending=True)
_COLUMNS = columns(
    Broadcast.id,
    Broadcast.created_at,
    Broadcast.updated_at,
    Broadcast.version,
    Broadcast.province_code,
    Broadcast.ward_code,
    Broadcast.kind,
    Broadcast.title,
    Broadcast.body,
    Broadcast.target_unit_codes,
    Broadcast.publish_at,
    Broadcast.expires_at,
    Broadcast.author_id,
)


@dataclass(frozen=True)
class Target:
    """Where a target unit code points."""

    level: str
    unit_code: str
    province_code: str
    ward_code: str
    neighbourhood_id: uuid.UUID | None = None
    residential_group_id: uuid.UUID | None = None


def _live(now: datetime) -> ColumnElement[bool]:
    return (
        col(Broadcast.deleted_at).is_(None)
        & (col(Broadcast.publish_at) <= now)
        & (col(Broadcast.expires_at).is_(None) | (col(Broadcast.expires_at) > now))
    )


def _targets_where(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(col(BroadcastTarget.broadcast_id) == col(Broadcast.id), *conditions)


def _overseen(principal: Principal) -> ColumnElement[bool]:
    """Broadcasts an officer or ward system oversees: those touching their units."""
    if principal.role is Role.ADMIN:
        return true()
    if principal.role in (Role.WARD_OFFICER, Role.WARD_SYSTEM) and principal.ward_code:
        return _targets_where(col(BroadcastTarget.ward_code) == principal.ward_code)
    if principal.role in (Role.PROVINCE_OFFICER, Role.WARD_SYSTEM) and principal.province_code:
        return col(Broadcast.province_code) == principal.province_code
    return false()


def _received(principal: Principal) -> ColumnElement[bool]:
    """Broadcasts that target where a person lives: their ward, their neighbourhood, or a
    residential group of their neighbourhood."""
    if principal.role not in RECIPIENT_ROLES or not principal.ward_code:
        return false()
    ward_wide = and_(
        col(BroadcastTarget.level) == "ward", col(BroadcastTarget.ward_code) == principal.ward_code
    )
    if principal.neighbourhood_id is None:
        return _targets_where(ward_wide)
    local = and_(
        col(BroadcastTarget.level).in_(("neighbourhood", "residential_group")),
        col(BroadcastTarget.neighbourhood_id) == principal.neighbourhood_id,
    )
    return _targets_where(or_(ward_wide, local))


def _visible(principal: Principal, now: datetime) -> ColumnElement[bool]:
    """Overseers see every broadcast of their units; recipients the live ones sent to them."""
    if principal.role in OVERSEER_ROLES:
        return col(Broadcast.deleted_at).is_(None) & _overseen(principal)
    return _live(now) & _received(principal)


def _acknowledged(principal: Principal) -> ColumnElement[Any]:
    if principal.kind != "user":
        return literal(False).label("acknowledged")
    return (
        exists()
        .where(
            col(BroadcastAcknowledgement.broadcast_id) == col(Broadcast.id),
            col(BroadcastAcknowledgement.user_id) == principal.subject,
        )
        .label("acknowledged")
    )


def state_of(publish_at: datetime, expires_at: datetime | None, now: datetime) -> str:
    """scheduled, live or expired."""
    if publish_at > now:
        return "scheduled"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "live"


def present(row: Any, now: datetime | None = None) -> dict[str, Any]:
    """A broadcast row (or record) with its state and whether the caller acknowledged it."""
    values = dict(row._mapping) if hasattr(row, "_mapping") else row.model_dump()
    values["state"] = state_of(values["publish_at"], values["expires_at"], now or utcnow())
    values["acknowledged"] = bool(values.get("acknowledged", False))
    return values


async def _resolve(session: AsyncSession, code: str) -> Target:
    if len(code) == 5 and code.isdigit():
        ward = await session.get(Ward, code)
        if ward is None:
            raise ValidationFailed.field(
                ("body", "target_unit_codes"),
                f"No ward has the code {code!r}.",
                FieldErrorType.NOT_FOUND,
            )
        return Target("ward", code, ward.province_code, ward.code)
    try:
        unit_id = uuid.UUID(code)
    except ValueError:
        raise ValidationFailed.field(
            ("body", "target_unit_codes"),
            f"{code!r} is not a ward code, neighbourhood id or residential group id.",
        ) from None
    row = await fetch_row(
        session,
        select(*columns(Neighbourhood.province_code, Neighbourhood.ward_code)).where(
            col(Neighbourhood.id) == unit_id, col(Neighbourhood.deleted_at).is_(None)
        ),
    )
    if row is not None:
        return Target("neighbourhood", str(unit_id), row.province_code, row.ward_code, unit_id)
    row = await fetch_row(
        session,
        select(
            *columns(
                ResidentialGroup.province_code,
                ResidentialGroup.ward_code,
                ResidentialGroup.neighbourhood_id,
            )
        ).where(col(ResidentialGroup.id) == unit_id, col(ResidentialGroup.deleted_at).is_(None)),
    )
    if row is None:
        raise ValidationFailed.field(
            ("body", "target_unit_codes"),
            f"No neighbourhood or residential group is {code}.",
            FieldErrorType.NOT_FOUND,
        )
    return Target(
        "residential_group",
        str(unit_id),
        row.province_code,
        row.ward_code,
        row.neighbourhood_id,
        unit_id,
    )


def can_send_to(principal: Principal, target: Target) -> str | None:
    """Why ``principal`` may not broadcast to ``target`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code == target.province_code:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == target.ward_code:
        return None
    return f"{target.unit_code} is outside your units; broadcast only to units you serve."


def can_manage(principal: Principal, broadcast: Broadcast) -> str | None:
    """Why ``principal`` may not change or withdraw this visible broadcast (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code == (
        broadcast.province_code
    ):
        return None
    if principal.role is Role.WARD_OFFICER and broadcast.ward_code == principal.ward_code:
        return None
    return "Only its sender's level (the ward's officers, or the province's) may change it."


async def create_broadcast(
    session: AsyncSession, principal: Principal, data: BroadcastCreate
) -> Broadcast:
    """Send a broadcast to units inside the sender's scope."""
    codes = list(dict.fromkeys(data.target_unit_codes))
    targets = [await _resolve(session, code) for code in codes]
    for target in targets:
        reason = can_send_to(principal, target)
        if reason:
            raise Forbidden(reason)
    provinces = {target.province_code for target in targets}
    if len(provinces) != 1:
        raise ValidationFailed.field(
            ("body", "target_unit_codes"), "All targets must lie in one province."
        )
    wards = {target.ward_code for target in targets}
    publish_at = data.publish_at or utcnow()
    if data.expires_at is not None and data.expires_at <= publish_at:
        raise ValidationFailed.field(
            ("body", "expires_at"),
            "expires_at must be after publish_at.",
            FieldErrorType.GREATER_THAN,
        )
    broadcast = Broadcast(
        province_code=provinces.pop(),
        ward_code=wards.pop() if len(wards) == 1 else None,
        kind=data.kind.value,
        title=data.title,
        body=data.body,
        target_unit_codes=codes,
        publish_at=publish_at,
        expires_at=data.expires_at,
        author_id=principal.subject,
    )
    session.add(broadcast)
    await session.flush()
    for target in targets:
        session.add(BroadcastTarget(broadcast_id=broadcast.id, **target.__dict__))
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "broadcast",
        broadcast.id,
        province_code=broadcast.province_code,
        ward_code=broadcast.ward_code,
        changed_fields=data.model_fields_set | {"title", "body", "kind", "target_unit_codes"},
    )
    return broadcast


async def list_broadcasts(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    kind: str | None = None,
    state: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Broadcasts the principal sees, newest first: residents the live ones sent to them."""
    now = utcnow()
    statement = select(*_COLUMNS, _acknowledged(principal)).where(_visible(principal, now))
    if kind:
        statement = statement.where(col(Broadcast.kind) == kind)
    if state == "scheduled":
        statement = statement.where(col(Broadcast.publish_at) > now)
    elif state == "live":
        statement = statement.where(_live(now))
    elif state == "expired":
        statement = statement.where(col(Broadcast.expires_at) <= now)
    filters = {"kind": kind, "state": state}
    rows, next_cursor = await fetch_page(session, statement, BROADCASTS, page, codec, filters)
    return [present(row, now) for row in rows], next_cursor


async def get_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> dict[str, Any]:
    """One broadcast the principal sees (404 otherwise)."""
    now = utcnow()
    row = await fetch_row(
        session,
        select(*_COLUMNS, _acknowledged(principal)).where(
            col(Broadcast.id) == broadcast_id, _visible(principal, now)
        ),
    )
    if row is None:
        raise NotFound(f"No broadcast has the id {broadcast_id}.")
    return present(row, now)


async def _manageable(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> Broadcast:
    broadcast = (
        await session.exec(
            select_model(Broadcast).where(
                col(Broadcast.id) == broadcast_id, _visible(principal, utcnow())
            )
        )
    ).first()
    if broadcast is None:
        raise NotFound(f"No broadcast has the id {broadcast_id}.")
    reason = can_manage(principal, broadcast)
    if reason:
        raise Forbidden(reason)
    return broadcast


async def update_broadcast(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: uuid.UUID,
    expected_version: int,
    data: BroadcastUpdate,
) -> Broadcast:
    """Change a broadcast's text, kind or times, if it is still at ``expected_version``."""
    broadcast = await _manageable(session, principal, broadcast_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k != "expires_at")
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if "kind" in changes:
        changes["kind"] = changes["kind"].value
    publish_at = changes.get("publish_at", broadcast.publish_at)
    expires_at = changes.get("expires_at", broadcast.expires_at)
    if expires_at is not None and expires_at <= publish_at:
        raise ValidationFailed.field(
            ("body", "expires_at"),
            "expires_at must be after publish_at.",
            FieldErrorType.GREATER_THAN,
        )
    await compare_and_set(session, broadcast, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "broadcast",
        broadcast.id,
        province_code=broadcast.province_code,
        ward_code=broadcast.ward_code,
        changed_fields=changes,
    )
    return broadcast


async def delete_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a broadcast: nobody sees it any more."""
    broadcast = await _manageable(session, principal, broadcast_id)
    await compare_and_set(session, broadcast, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "broadcast",
        broadcast.id,
        province_code=broadcast.province_code,
        ward_code=broadcast.ward_code,
    )
