"""Broadcast acknowledgements (once per person) and reach: acknowledgements against the
households of the targeted units."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.data.writes import UnitOfWrite
from app.db import columns, fetch_row
from app.errors import Forbidden
from app.models.broadcasts import BroadcastAcknowledgement, BroadcastTarget
from app.models.neighbourhoods import Neighbourhood
from app.models.residential_groups import ResidentialGroup
from app.pagination import Keyset
from app.security import Principal
from app.services.broadcasts.records import OVERSEER_ROLES, RECIPIENT_ROLES, get_broadcast


def visible_acknowledgements(principal: Principal) -> Visible:
    """A broadcast's overseers see its every acknowledgement, anyone else their own (read
    under a broadcast the caller sees)."""
    if principal.role in OVERSEER_ROLES:
        return Visible.all()
    return Visible.where(user_id=principal.subject)


ACKNOWLEDGEMENTS = Repository(
    BroadcastAcknowledgement,
    noun="acknowledgement",
    columns=(
        BroadcastAcknowledgement.id,
        BroadcastAcknowledgement.created_at,
        BroadcastAcknowledgement.updated_at,
        BroadcastAcknowledgement.version,
        BroadcastAcknowledgement.broadcast_id,
        BroadcastAcknowledgement.user_id,
        BroadcastAcknowledgement.province_code,
        BroadcastAcknowledgement.ward_code,
        BroadcastAcknowledgement.neighbourhood_id,
    ),
    visible=visible_acknowledgements,
    keyset=Keyset(
        "broadcast-acknowledgements",
        columns(BroadcastAcknowledgement.created_at, BroadcastAcknowledgement.id),
    ),
    filters={"broadcast_id": BroadcastAcknowledgement.broadcast_id},
    missing="Broadcast {broadcast_id} has no acknowledgement {id}.",
    writes=UnitOfWrite("broadcast_acknowledgement"),
)


async def acknowledge(
    session: AsyncSession, principal: Principal, broadcast_id: uuid.UUID
) -> tuple[Any, bool]:
    """Acknowledge a live broadcast sent to you; returns the acknowledgement and whether it
    is new (a repeat changes nothing)."""
    await get_broadcast(session, principal, broadcast_id)  # 404 when invisible
    if principal.kind != "user" or principal.role not in RECIPIENT_ROLES:
        raise Forbidden("Broadcasts are acknowledged by the people they are sent to.")
    existing = await ACKNOWLEDGEMENTS.first(session, principal, broadcast_id=broadcast_id)
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
            await ACKNOWLEDGEMENTS.insert(
                session, principal, acknowledgement, fields=["broadcast_id"]
            )
    except IntegrityError:
        # The same person acknowledging twice at once: the other request won.
        found = await ACKNOWLEDGEMENTS.first(session, principal, broadcast_id=broadcast_id)
        if found is None:
            raise
        return found, False
    return acknowledgement, True


async def get_acknowledgement(
    session: AsyncSession,
    principal: Principal,
    broadcast_id: uuid.UUID,
    acknowledgement_id: uuid.UUID,
) -> Any:
    """One acknowledgement: the acknowledger's own, or any for the broadcast's overseers."""
    await get_broadcast(session, principal, broadcast_id)
    return await ACKNOWLEDGEMENTS.get(
        session, principal, acknowledgement_id, broadcast_id=broadcast_id
    )


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
