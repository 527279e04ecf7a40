"""A round's ranking, and who qualifies for the province round: window functions over a
round's entries (standard competition ranking, in SQL), so Core statements, not
repository reads."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, fetch_row, fetch_rows
from app.models.competitions import Competition, CompetitionEntry
from app.models.fire_teams import FireTeam
from app.schemas.competitions import CompetitionLevel
from app.security import Principal
from app.services.fire import competitions as competition_service

# A province round takes the teams that ranked this high in a ward round.
QUALIFYING_RANK = 3


def _scored() -> ColumnElement[bool]:
    return col(CompetitionEntry.total_score).is_not(None) & col(
        CompetitionEntry.practical_seconds
    ).is_not(None)


def _rank() -> Any:
    """Standard competition ranking (1, 2, 2, 4) inside each competition, in SQL."""
    return (
        func.rank()
        .over(
            partition_by=col(CompetitionEntry.competition_id),
            order_by=(
                col(CompetitionEntry.total_score).desc(),
                col(CompetitionEntry.practical_seconds).asc(),
                col(CompetitionEntry.theory_score).desc(),
            ),
        )
        .label("rank")
    )


def _live_entries() -> ColumnElement[bool]:
    return col(CompetitionEntry.deleted_at).is_(None)


async def qualified(session: AsyncSession, team_id: uuid.UUID, year: int) -> bool:
    """Whether the team ranked in the top 3 of a ward-level competition of ``year``."""
    ranks = (
        select(col(CompetitionEntry.team_id), _rank())
        .join(Competition, col(Competition.id) == col(CompetitionEntry.competition_id))
        .where(
            col(Competition.level) == CompetitionLevel.WARD.value,
            col(Competition.year) == year,
            col(Competition.deleted_at).is_(None),
            _live_entries(),
            _scored(),
        )
        .subquery()
    )
    found = await fetch_row(
        session,
        select(ranks.c.team_id).where(ranks.c.team_id == team_id, ranks.c.rank <= QUALIFYING_RANK),
    )
    return found is not None


_RANKING_COLUMNS: tuple[ColumnElement[Any], ...] = (
    col(CompetitionEntry.id).label("entry_id"),
    *columns(CompetitionEntry.team_id),
    col(FireTeam.name).label("team_name"),
    *columns(
        CompetitionEntry.ward_code,
        CompetitionEntry.theory_score,
        CompetitionEntry.practical_score,
        CompetitionEntry.total_score,
        CompetitionEntry.practical_seconds,
    ),
)


def _ranking_columns() -> Select[Any]:
    return select(*_RANKING_COLUMNS).join(
        FireTeam, col(FireTeam.id) == col(CompetitionEntry.team_id)
    )


async def ranking(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> dict[str, Any]:
    """The whole ranking: total desc, then practical time asc, then theory desc; ties share."""
    competition = await competition_service.get_competition(session, principal, competition_id)
    of_competition = col(CompetitionEntry.competition_id) == competition.id
    ranked = (
        _ranking_columns()
        .add_columns(_rank())
        .where(of_competition, _live_entries(), _scored())
        .subquery()
    )
    items = await fetch_rows(
        session,
        select(ranked).order_by(ranked.c.rank, ranked.c.team_name, ranked.c.entry_id),
    )
    unscored = await fetch_rows(
        session,
        _ranking_columns()
        .where(of_competition, _live_entries(), ~_scored())
        .order_by(col(FireTeam.name), col(CompetitionEntry.id)),
    )
    return {
        "competition_id": competition.id,
        "year": competition.year,
        "level": competition.level,
        "unit_code": competition.unit_code,
        "items": [row._mapping for row in items],
        "unscored": [{**row._mapping, "rank": None} for row in unscored],
    }
