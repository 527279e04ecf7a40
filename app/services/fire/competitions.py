"""Fire-safety competitions: who runs which round, and the rounds themselves (who sees
which is ``records.competition_visibility``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.uniqueness import taken
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models.competitions import Competition
from app.pagination import CursorCodec, PageParams
from app.schemas.competitions import CompetitionCreate, CompetitionLevel, CompetitionUpdate
from app.security import Principal, Role, UnitLevel
from app.services.fire import counts
from app.services.fire.policies import rule_violation
from app.services.fire.records import COMPETITIONS
from app.services.units import resolve_unit

_PROVINCE_LEVEL = CompetitionLevel.PROVINCE.value


def can_run_competition(principal: Principal, level: str, unit_code: str) -> str | None:
    """Why ``principal`` may not run this round (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if level == _PROVINCE_LEVEL:
        if principal.role is Role.PROVINCE_OFFICER and principal.province_code == unit_code:
            return None
        return "Province-level competitions are run by that province's officers."
    if principal.role is Role.WARD_OFFICER and principal.ward_code == unit_code:
        return None
    return "Ward-level competitions are run by that ward's officers."


def _check_held_on(year: int, held_on: date | None) -> None:
    if held_on is not None and held_on.year != year:
        raise rule_violation(
            "competition_held_on_year", "held_on", f"held_on must fall in the year {year}."
        )


async def _ensure_name_free(
    session: AsyncSession,
    unit_code: str,
    year: int,
    name: str,
    *,
    except_id: uuid.UUID | None = None,
) -> None:
    # Names are unique among a unit's live rounds of a year (an index says so), so the one
    # holder found is the only one.
    holder = await taken(COMPETITIONS, session, unit_code=unit_code, year=year, name=name)
    if holder is not None and holder.id != except_id:
        raise Conflict(f"The unit already has a {year} competition named {name!r}.")


async def list_competitions(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    year: int | None = None,
    level: str | None = None,
    unit_code: str | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Competitions in scope, newest year first."""
    return await COMPETITIONS.page(
        session, principal, page, codec, year=year, level=level, unit_code=unit_code
    )


async def get_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Any:
    """One competition in scope, as a row (404 outside it)."""
    return await COMPETITIONS.get(session, principal, competition_id)


async def runnable_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    """A competition in scope that the principal runs (404 outside scope, 403 if not theirs)."""
    competition = await COMPETITIONS.get_for_update(session, principal, competition_id)
    reason = can_run_competition(principal, competition.level, competition.unit_code)
    if reason:
        raise Forbidden(reason)
    return competition


async def create_competition(
    session: AsyncSession, principal: Principal, data: CompetitionCreate
) -> Competition:
    """Open a competition round for a ward or a province."""
    anchor = await resolve_unit(session, data.unit_code)
    if data.level is CompetitionLevel.WARD:
        if anchor is None or anchor.level is not UnitLevel.WARD:
            raise rule_violation(
                "competition_unit",
                "unit_code",
                "A ward-level competition's unit_code is a ward code.",
            )
    elif anchor is None or anchor.level is not UnitLevel.PROVINCE:
        raise rule_violation(
            "competition_unit",
            "unit_code",
            "A province-level competition's unit_code is a province code.",
        )
    province_code, ward_code = anchor.province_code, anchor.ward_code
    reason = can_run_competition(principal, data.level.value, data.unit_code)
    if reason:
        raise Forbidden(reason)
    _check_held_on(data.year, data.held_on)
    await _ensure_name_free(session, data.unit_code, data.year, data.name)
    competition = Competition(
        province_code=province_code,
        ward_code=ward_code,
        year=data.year,
        level=data.level.value,
        unit_code=data.unit_code,
        name=data.name,
        held_on=data.held_on,
    )
    return await COMPETITIONS.insert(
        session,
        principal,
        competition,
        fields=data.model_fields_set | {"year", "level", "unit_code", "name"},
    )


async def update_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    expected_version: int,
    data: CompetitionUpdate,
) -> Competition:
    """Rename or date a competition, if it is still at ``expected_version``."""
    competition = await runnable_competition(session, principal, competition_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"] is None:
            raise ValidationFailed.not_null(["name"])
        await _ensure_name_free(
            session,
            competition.unit_code,
            competition.year,
            changes["name"],
            except_id=competition.id,
        )
    if "held_on" in changes:
        _check_held_on(competition.year, changes["held_on"])
    return await COMPETITIONS.update(
        session, principal, competition, expected_version, changes, fields=changes
    )


async def delete_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a competition that has no entries left."""
    competition = await runnable_competition(session, principal, competition_id)
    entries = await counts.competition_entries(session, competition.id)
    if entries:
        raise Conflict(f"The competition still has {entries} entries; delete them first.")
    await COMPETITIONS.delete(session, principal, competition, expected_version)
