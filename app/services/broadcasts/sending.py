"""Sending broadcasts: to wards, neighbourhoods or residential groups inside the sender's
units, changed or withdrawn by the sender's level."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import FieldErrorType, Forbidden, ValidationFailed
from app.models.broadcasts import Broadcast, BroadcastTarget
from app.schemas.broadcasts import BroadcastCreate, BroadcastUpdate
from app.security import Principal, Role
from app.services.broadcasts.records import BROADCASTS
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.residential_groups import RESIDENTIAL_GROUPS
from app.services.units import province_of_ward


@dataclass(frozen=True)
class Target:
    """Where a target unit code points."""

    level: str
    unit_code: str
    province_code: str
    ward_code: str
    neighbourhood_id: uuid.UUID | None = None
    residential_group_id: uuid.UUID | None = None


async def _resolve(session: AsyncSession, code: str) -> Target:
    if len(code) == 5 and code.isdigit():
        province_code = await province_of_ward(session, code)
        if province_code is None:
            raise ValidationFailed.field(
                ("body", "target_unit_codes"),
                f"No ward has the code {code!r}.",
                FieldErrorType.NOT_FOUND,
            )
        return Target("ward", code, province_code, code)
    try:
        unit_id = uuid.UUID(code)
    except ValueError:
        raise ValidationFailed.field(
            ("body", "target_unit_codes"),
            f"{code!r} is not a ward code, neighbourhood id or residential group id.",
        ) from None
    row = await NEIGHBOURHOODS.find(session, None, unit_id)
    if row is not None:
        return Target("neighbourhood", str(unit_id), row.province_code, row.ward_code, unit_id)
    row = await RESIDENTIAL_GROUPS.find(session, None, unit_id)
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
    return await BROADCASTS.insert(
        session,
        principal,
        broadcast,
        fields=data.model_fields_set | {"title", "body", "kind", "target_unit_codes"},
        parts=[BroadcastTarget(broadcast_id=broadcast.id, **target.__dict__) for target in targets],
    )


async def _manageable(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> Broadcast:
    broadcast = await BROADCASTS.get_for_update(
        session, principal, broadcast_id, bound={"now": utcnow()}
    )
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
    return await BROADCASTS.update(
        session, principal, broadcast, expected_version, changes, fields=changes
    )


async def delete_broadcast(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID, expected_version: int
) -> None:
    """Withdraw a broadcast: nobody sees it any more."""
    broadcast = await _manageable(session, principal, broadcast_id)
    await BROADCASTS.delete(session, principal, broadcast, expected_version)
