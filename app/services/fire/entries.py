"""Competition entries, their scores, the ranking, and who qualifies for the province round."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.db import columns, compare_and_set, fetch_row, fetch_rows, utcnow
from app.errors import Conflict
from app.models.competitions import Competition, CompetitionEntry
from app.models.fire_teams import FireTeam
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.competitions import CompetitionLevel, EntryCreate, EntryUpdate
from app.security import Principal
from app.services import audit as audit_service
from app.services import competitions as competition_service
from app.services.fire_policies import rule_violation

# Bounds the ranking, which is one answer rather than pages.
MAX_ENTRIES = 500
# A province round takes the teams that ranked this high in a ward round.
QUALIFYING_RANK = 3


def entry_visibility(principal: Principal) -> Visible:
    """Every entry of a competition the principal sees: an entry is read only under the id
    of a competition found visible first (its own place is its team's, and a province
    round's entries come from many wards, so it cannot say who sees the entry)."""
    return Visible.all()


ENTRIES = Repository(
    CompetitionEntry,
    noun="competition entry",
    columns=(
        CompetitionEntry.id,
        CompetitionEntry.competition_id,
        CompetitionEntry.team_id,
        CompetitionEntry.province_code,
        CompetitionEntry.ward_code,
        CompetitionEntry.theory_score,
        CompetitionEntry.practical_score,
        CompetitionEntry.practical_seconds,
        CompetitionEntry.total_score,
        CompetitionEntry.created_at,
        CompetitionEntry.updated_at,
        CompetitionEntry.version,
    ),
    visible=entry_visibility,
    keyset=Keyset("competition-entries", columns(CompetitionEntry.created_at, CompetitionEntry.id)),
    filters={"competition_id": CompetitionEntry.competition_id},
    missing="The competition has no entry with the id {id}.",
)
_SCORES = ("theory_score", "practical_score", "practical_seconds")


def _total(theory: int | None, practical: int | None) -> int | None:
    return theory + practical if theory is not None and practical is not None else None


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


async def _qualified(session: AsyncSession, team_id: uuid.UUID, year: int) -> bool:
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


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
) -> tuple[Sequence[Any], str | None]:
    """A visible competition's entries, in the order they were made."""
    await competition_service.get_competition(session, principal, competition_id)
    return await ENTRIES.page(session, principal, page, codec, competition_id=competition_id)


async def get_entry(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, entry_id: uuid.UUID
) -> Any:
    """One entry of a visible competition, as a row (404 otherwise)."""
    await competition_service.get_competition(session, principal, competition_id)
    return await ENTRIES.get(session, principal, entry_id, competition_id=competition_id)


async def create_entry(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: EntryCreate
) -> CompetitionEntry:
    """Enter a team of the competition's unit; a province round takes only qualified teams."""
    competition = await competition_service.runnable_competition(session, principal, competition_id)
    province_level = competition.level == CompetitionLevel.PROVINCE.value
    team_unit = col(FireTeam.province_code if province_level else FireTeam.ward_code)
    team = (
        await session.exec(
            select_model(FireTeam).where(
                col(FireTeam.id) == data.team_id,
                col(FireTeam.deleted_at).is_(None),
                team_unit == competition.unit_code,
            )
        )
    ).first()
    if team is None:
        # The same answer for a team elsewhere and for none: ids outside leak nothing.
        raise rule_violation(
            "competition_entry_unit",
            "team_id",
            f"No fire team of {competition.level} {competition.unit_code} has the id "
            f"{data.team_id}.",
        )
    already = await fetch_row(
        session,
        select(col(CompetitionEntry.id)).where(
            col(CompetitionEntry.competition_id) == competition.id,
            col(CompetitionEntry.team_id) == team.id,
            _live_entries(),
        ),
    )
    if already is not None:
        raise Conflict("The team has already entered this competition.")
    count = await fetch_row(
        session,
        select(func.count()).where(
            col(CompetitionEntry.competition_id) == competition.id, _live_entries()
        ),
    )
    if count is not None and count[0] >= MAX_ENTRIES:
        raise Conflict(f"The competition is full ({MAX_ENTRIES} entries).")
    if province_level and not await _qualified(session, team.id, competition.year):
        raise rule_violation(
            "competition_province_qualification",
            "team_id",
            f"A province round takes only teams ranked in the top {QUALIFYING_RANK} of a "
            f"ward-level competition of {competition.year}; this team is not one.",
        )
    entry = CompetitionEntry(
        competition_id=competition.id,
        team_id=team.id,
        province_code=team.province_code,
        ward_code=team.ward_code,
        theory_score=data.theory_score,
        practical_score=data.practical_score,
        practical_seconds=data.practical_seconds,
        total_score=_total(data.theory_score, data.practical_score),
    )
    session.add(entry)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "competition_entry",
        entry.id,
        province_code=entry.province_code,
        ward_code=entry.ward_code,
        changed_fields=data.model_fields_set | {"team_id"},
    )
    return entry


async def update_entry(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    expected_version: int,
    data: EntryUpdate,
) -> CompetitionEntry:
    """Record or correct an entry's scores, if it is still at ``expected_version``."""
    await competition_service.runnable_competition(session, principal, competition_id)
    entry = await ENTRIES.get_for_update(
        session, principal, entry_id, competition_id=competition_id
    )
    changes = data.model_dump(exclude_unset=True)
    state = {name: getattr(entry, name) for name in _SCORES} | changes
    values = {**changes, "total_score": _total(state["theory_score"], state["practical_score"])}
    await compare_and_set(session, entry, expected_version, values)
    audit_service.record(
        session,
        principal,
        "update",
        "competition_entry",
        entry.id,
        province_code=entry.province_code,
        ward_code=entry.ward_code,
        changed_fields=changes,
    )
    return entry


async def delete_entry(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    expected_version: int,
) -> None:
    """Withdraw an entry."""
    await competition_service.runnable_competition(session, principal, competition_id)
    entry = await ENTRIES.get_for_update(
        session, principal, entry_id, competition_id=competition_id
    )
    await compare_and_set(session, entry, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "competition_entry",
        entry.id,
        province_code=entry.province_code,
        ward_code=entry.ward_code,
    )


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
