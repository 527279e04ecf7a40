"""Fire-safety competitions: who sees and runs which round, and the rounds themselves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import Visible
from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models.competitions import Competition, CompetitionEntry
from app.models.units import Province, Ward
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.competitions import CompetitionCreate, CompetitionLevel, CompetitionUpdate
from app.security import Principal, Role
from app.services import audit as audit_service
from app.services.fire_policies import rule_violation

_PROVINCE_LEVEL = CompetitionLevel.PROVINCE.value


def competition_visibility(principal: Principal) -> Visible:
    """Admins all; province officers their province; everyone else with fire:read the rounds
    of their ward and those of their province (where their ward's best teams go)."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.role is Role.WARD_SYSTEM and not principal.ward_code and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.ward_code and principal.province_code:
        return Visible.where(ward_code=principal.ward_code).or_where(
            level=_PROVINCE_LEVEL, province_code=principal.province_code
        )
    return Visible.nothing()


COMPETITIONS = Repository(
    Competition,
    noun="competition",
    columns=(
        Competition.id,
        Competition.province_code,
        Competition.ward_code,
        Competition.year,
        Competition.level,
        Competition.unit_code,
        Competition.name,
        Competition.held_on,
        Competition.created_at,
        Competition.updated_at,
        Competition.version,
    ),
    visible=competition_visibility,
    # Newest year first; inside a year, the newest round first.
    keyset=Keyset(
        "competitions",
        columns(Competition.year, Competition.created_at, Competition.id),
        descending=True,
    ),
    filters={
        "year": Competition.year,
        "level": Competition.level,
        "unit_code": Competition.unit_code,
    },
)


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
    statement = select(col(Competition.id)).where(
        col(Competition.unit_code) == unit_code,
        col(Competition.year) == year,
        col(Competition.name) == name,
        col(Competition.deleted_at).is_(None),
    )
    if except_id:
        statement = statement.where(col(Competition.id) != except_id)
    if await fetch_row(session, statement) is not None:
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
    ward_code: str | None = None
    if data.level is CompetitionLevel.WARD:
        ward = await session.get(Ward, data.unit_code) if len(data.unit_code) == 5 else None
        if ward is None:
            raise rule_violation(
                "competition_unit",
                "unit_code",
                "A ward-level competition's unit_code is a ward code.",
            )
        province_code, ward_code = ward.province_code, ward.code
    else:
        province = await session.get(Province, data.unit_code) if len(data.unit_code) == 2 else None
        if province is None:
            raise rule_violation(
                "competition_unit",
                "unit_code",
                "A province-level competition's unit_code is a province code.",
            )
        province_code = province.code
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
    session.add(competition)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "competition",
        competition.id,
        province_code=competition.province_code,
        ward_code=competition.ward_code,
        changed_fields=data.model_fields_set | {"year", "level", "unit_code", "name"},
    )
    return competition


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
    await compare_and_set(session, competition, expected_version, changes)
    audit_service.record(
        session,
        principal,
        "update",
        "competition",
        competition.id,
        province_code=competition.province_code,
        ward_code=competition.ward_code,
        changed_fields=changes,
    )
    return competition


async def delete_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a competition that has no entries left."""
    competition = await runnable_competition(session, principal, competition_id)
    entries = await fetch_row(
        session,
        select(func.count()).where(
            col(CompetitionEntry.competition_id) == competition.id,
            col(CompetitionEntry.deleted_at).is_(None),
        ),
    )
    if entries is not None and entries[0]:
        raise Conflict(f"The competition still has {entries[0]} entries; delete them first.")
    await compare_and_set(session, competition, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "competition",
        competition.id,
        province_code=competition.province_code,
        ward_code=competition.ward_code,
    )
