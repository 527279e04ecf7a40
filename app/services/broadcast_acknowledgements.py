"""Broadcast acknowledgements (once per person) and reach: acknowledgements against the
households of the targeted units."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import fetch_row
from app.errors import Forbidden, NotFound
from app.models.broadcasts import BroadcastAcknowledgement, BroadcastTarget
from app.models.units import Neighbourhood, ResidentialGroup
from app.security import Principal
from app.services import audit as audit_service
from app.services.broadcasts import OVERSEER_ROLES, RECIPIENT_ROLES, get_broadcast


async def acknowledge(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> tuple[BroadcastAcknowledgement, bool]:
    """Acknowledge a live broadcast sent to you; returns the acknowledgement and whether it
    is new (a repeat changes nothing)."""
    if principal.kind != "user" or principal.role not in RECIPIENT_ROLES:
        await get_broadcast(session, principal, broadcast_id)  # 404 when invisible
        raise Forbidden("Broadcasts are acknowledged by the people they are sent to.")
    await get_broadcast(session, principal, broadcast_id)
    existing = await _acknowledgement(session, broadcast_id, principal.subject)
    if existing is not None:
        return existing, False
    acknowledgement = BroadcastAcknowledgement(
        broadcast_id=broadcast_id,
        user_id=principal.subject,
        province_code=principal.province_code,
        ward_code=principal.ward_code,
        neighbourhood_id=principal.neighbourhood_id,
    )
    try:
        async with session.begin_nested():
            session.add(acknowledgement)
            await session.flush()
    except IntegrityError:
        # The same person acknowledging twice at once: the other request won.
        found = await _acknowledgement(session, broadcast_id, principal.subject)
        if found is None:
            raise
        return found, False
    audit_service.record(
        session,
        principal,
        "create",
        "broadcast_acknowledgement",
        acknowledgement.id,
        province_code=acknowledgement.province_code,
        ward_code=acknowledgement.ward_code,
        changed_fields=["broadcast_id"],
    )
    return acknowledgement, True


async def get_acknowledgement(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: uuid.UUID,
    acknowledgement_id: uuid.UUID,
) -> BroadcastAcknowledgement:
    """One acknowledgement: the acknowledger's own, or any for the broadcast's overseers."""
    await get_broadcast(session, principal, broadcast_id)
    statement = select_model(BroadcastAcknowledgement).where(
        col(BroadcastAcknowledgement.id) == acknowledgement_id,
        col(BroadcastAcknowledgement.broadcast_id) == broadcast_id,
    )
    if principal.role not in OVERSEER_ROLES:
        statement = statement.where(col(BroadcastAcknowledgement.user_id) == principal.subject)
    found = (await session.exec(statement)).first()
    if found is None:
        raise NotFound(f"Broadcast {broadcast_id} has no acknowledgement {acknowledgement_id}.")
    return found


async def _acknowledgement(
    session: AsyncSession, broadcast_id: uuid.UUID, user_id: uuid.UUID
) -> BroadcastAcknowledgement | None:
    return (
        await session.exec(
            select_model(BroadcastAcknowledgement).where(
                col(BroadcastAcknowledgement.broadcast_id) == broadcast_id,
                col(BroadcastAcknowledgement.user_id) == user_id,
            )
        )
    ).first()


async def reach(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> dict[str, Any]:
    """Acknowledgements against the households of the targeted units, in one SQL query.

    Households = the households of every neighbourhood targeted (itself or by
    its ward) plus those of targeted residential groups whose neighbourhood is
    not already counted, so that no household is counted twice."""
    await get_broadcast(session, principal, broadcast_id)
    targets = col(BroadcastTarget.broadcast_id) == broadcast_id
    ward_codes = select(col(BroadcastTarget.ward_code)).where(
        targets, col(BroadcastTarget.level) == "ward"
    )
    neighbourhood_ids = select(col(BroadcastTarget.neighbourhood_id)).where(
        targets, col(BroadcastTarget.level) == "neighbourhood"
    )
    group_ids = select(col(BroadcastTarget.residential_group_id)).where(
        targets, col(BroadcastTarget.level) == "residential_group"
    )
    whole_neighbourhoods = (
        select(func.coalesce(func.sum(col(Neighbourhood.households)), 0))
        .where(
            col(Neighbourhood.deleted_at).is_(None),
            or_(
                col(Neighbourhood.ward_code).in_(ward_codes),
                col(Neighbourhood.id).in_(neighbourhood_ids),
            ),
        )
        .scalar_subquery()
    )
    lone_groups = (
        select(func.coalesce(func.sum(col(ResidentialGroup.households)), 0))
        .where(
            col(ResidentialGroup.deleted_at).is_(None),
            col(ResidentialGroup.id).in_(group_ids),
            col(ResidentialGroup.ward_code).not_in(ward_codes),
            col(ResidentialGroup.neighbourhood_id).not_in(neighbourhood_ids),
        )
        .scalar_subquery()
    )
    acknowledged = (
        select(func.count())
        .where(col(BroadcastAcknowledgement.broadcast_id) == broadcast_id)
        .scalar_subquery()
    )
    row = await fetch_row(
        session,
        select(
            whole_neighbourhoods.label("neighbourhoods"),
            lone_groups.label("groups"),
            acknowledged.label("acknowledged"),
        ),
    )
    assert row is not None
    households = int(row.neighbourhoods) + int(row.groups)
    count = int(row.acknowledged)
    return {
        "broadcast_id": broadcast_id,
        "acknowledged": count,
        "households": households,
        "reach": round(count / households, 4) if households else None,
    }
