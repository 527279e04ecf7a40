"""Competition entries and their scores; a province round takes only qualified teams
(``ranking`` says which)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict, NotFound
from app.models.competitions import CompetitionEntry
from app.pagination import CursorCodec, PageParams
from app.schemas.competitions import CompetitionLevel, EntryCreate, EntryUpdate
from app.security import Principal
from app.services.fire import competitions as competition_service
from app.services.fire import counts, ranking
from app.services.fire.policies import rule_violation
from app.services.fire.records import ENTRIES, FIRE_TEAMS

# Bounds the ranking, which is one answer rather than pages.
MAX_ENTRIES = 500


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
    # The round's runner sees every team of its unit (a ward's officers their ward, a
    # province's its province), so the team is read in their scope and in the unit.
    team_unit = "province_code" if province_level else "ward_code"
    try:
        team = await FIRE_TEAMS.get(
            session, principal, data.team_id, **{team_unit: competition.unit_code}
        )
    except NotFound:
        # The same answer for a team elsewhere and for none: ids outside leak nothing.
        raise rule_violation(
            "competition_entry_unit",
            "team_id",
            f"No fire team of {competition.level} {competition.unit_code} has the id "
            f"{data.team_id}.",
        ) from None
    already = await ENTRIES.first(
        session, principal, competition_id=competition.id, team_id=team.id
    )
    if already is not None:
        raise Conflict("The team has already entered this competition.")
    if await counts.competition_entries(session, competition.id) >= MAX_ENTRIES:
        raise Conflict(f"The competition is full ({MAX_ENTRIES} entries).")
    if province_level and not await ranking.qualified(session, team.id, competition.year):
        raise rule_violation(
            "competition_province_qualification",
            "team_id",
            f"A province round takes only teams ranked in the top {ranking.QUALIFYING_RANK} of a "
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
    )
    # total_score follows (derived by the unit of write).
    return await ENTRIES.insert(
        session, principal, entry, fields=data.model_fields_set | {"team_id"}
    )


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
    # total_score follows (derived by the unit of write).
    return await ENTRIES.update(
        session, principal, entry, expected_version, changes, fields=changes
    )


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
    await ENTRIES.delete(session, principal, entry, expected_version)
