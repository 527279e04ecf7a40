"""Each house of a team: whether its required kit is there, inspected on time and not
expired. One Core read of the team's required kit, grouped here (a report over the
items, not a list of records: it has no page and no cursor)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_rows
from app.models.fire_equipment import FireEquipment
from app.schemas.fire_equipment import REQUIRED_KIT
from app.security import Principal
from app.services.fire import policies
from app.services.fire import teams as team_service


def is_late(next_inspection_on: date | None, as_of: date) -> bool:
    """Inspected late: the due day has passed (an inspection on the due day is on time)."""
    return next_inspection_on is not None and next_inspection_on < as_of


def is_expired(expires_on: date | None, as_of: date) -> bool:
    """Expired: the expiry day has passed (an item is still good on its expiry day)."""
    return expires_on is not None and expires_on < as_of


async def readiness(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, as_of: date | None = None
) -> dict[str, Any]:
    """Per house: which required kit is missing, inspected late or expired on ``as_of``."""
    team = await team_service.get_team(session, principal, team_id)
    as_of = as_of or policies.today()
    required = [kind.value for kind in REQUIRED_KIT]
    items = await fetch_rows(
        session,
        select(
            *columns(
                FireEquipment.id,
                FireEquipment.kind,
                FireEquipment.household,
                FireEquipment.next_inspection_on,
                FireEquipment.expires_on,
            )
        )
        .where(
            col(FireEquipment.team_id) == team_id,
            col(FireEquipment.deleted_at).is_(None),
            col(FireEquipment.household).is_not(None),
            col(FireEquipment.kind).in_(required),
            col(FireEquipment.quantity) >= 1,
        )
        .order_by(col(FireEquipment.created_at), col(FireEquipment.id)),
    )
    by_house: dict[str, list[Any]] = {}
    for item in items:
        by_house.setdefault(item.household, []).append(item)
    households = []
    for household in team.households:
        kept = by_house.get(household, [])
        kinds = {item.kind for item in kept}
        late = [
            {"equipment_id": i.id, "kind": i.kind, "next_inspection_on": i.next_inspection_on}
            for i in kept
            if is_late(i.next_inspection_on, as_of)
        ]
        expired = [
            {"equipment_id": i.id, "kind": i.kind, "expires_on": i.expires_on}
            for i in kept
            if is_expired(i.expires_on, as_of)
        ]
        missing = [kind for kind in required if kind not in kinds]
        households.append(
            {
                "household": household,
                "ready": not (missing or late or expired),
                "missing": missing,
                "inspection_late": late,
                "expired": expired,
            }
        )
    households_ready = sum(1 for house in households if house["ready"])
    return {
        "team_id": team.id,
        "as_of": as_of,
        "required_kit": required,
        "ready": households_ready == len(households),
        "households_ready": households_ready,
        "household_count": len(households),
        "households": households,
    }
