"""How many live records a fire-safety rule counts: a team's drills and competition
entries (its history, which keeps it from deletion), the equipment kept at places a
change removes, a round's entries. Aggregates, so Core statements, not repository reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import fetch_row
from app.models.competitions import CompetitionEntry
from app.models.drills import Drill
from app.models.fire_equipment import FireEquipment


async def _live(session: AsyncSession, model: Any, *where: Any) -> int:
    row = await fetch_row(
        session, select(func.count()).where(*where, col(model.deleted_at).is_(None))
    )
    return int(row[0]) if row is not None else 0


async def team_drills(session: AsyncSession, team_id: uuid.UUID) -> int:
    """A team's live drills."""
    return await _live(session, Drill, col(Drill.team_id) == team_id)


async def team_entries(session: AsyncSession, team_id: uuid.UUID) -> int:
    """A team's live competition entries."""
    return await _live(session, CompetitionEntry, col(CompetitionEntry.team_id) == team_id)


async def equipment_kept_at(
    session: AsyncSession, team_id: uuid.UUID, column: Any, labels: Iterable[str]
) -> int:
    """A team's live equipment kept at these households or public points (``column``)."""
    return await _live(
        session,
        FireEquipment,
        col(FireEquipment.team_id) == team_id,
        column.in_(list(labels)),
    )


async def competition_entries(session: AsyncSession, competition_id: uuid.UUID) -> int:
    """A round's live entries."""
    return await _live(
        session, CompetitionEntry, col(CompetitionEntry.competition_id) == competition_id
    )
