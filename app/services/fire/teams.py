"""Inter-family fire-safety teams: the household rules, and the team records in scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.cascade import delete_all
from app.data.uniqueness import taken
from app.errors import Conflict, FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.pagination import CursorCodec, PageParams
from app.schemas.fire_teams import FireTeamCreate, FireTeamUpdate, PublicFirePoint
from app.security import Principal, Role
from app.services.fire import counts
from app.services.fire.policies import can_manage_team, rule_violation
from app.services.fire.records import EQUIPMENT, FIRE_TEAMS
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.users import holds_role

MIN_HOUSEHOLDS = 5
MAX_HOUSEHOLDS = 15


# --- the rules a team keeps ----------------------------------------------------


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def check_households(households: Sequence[str]) -> list[str]:
    """5 to 15 distinct household labels (spacing and case do not make two houses)."""
    count = len(households)
    if not MIN_HOUSEHOLDS <= count <= MAX_HOUSEHOLDS:
        raise rule_violation(
            "fire_team_household_count",
            "households",
            f"A fire team has {MIN_HOUSEHOLDS} to {MAX_HOUSEHOLDS} households; "
            f"this list has {count}.",
        )
    seen: dict[str, int] = {}
    for position, label in enumerate(households, start=1):
        key = _label_key(label)
        if key in seen:
            # Positions, not labels: addresses stay out of error messages.
            raise rule_violation(
                "fire_team_household_distinct",
                "households",
                f"Households {seen[key]} and {position} name the same house; list each once.",
            )
        seen[key] = position
    return list(households)


def check_public_points(points: Sequence[PublicFirePoint]) -> list[dict[str, Any]]:
    """Public fire points with distinct labels, as stored."""
    seen: set[str] = set()
    for point in points:
        key = _label_key(point.label)
        if key in seen:
            raise rule_violation(
                "fire_team_public_point_distinct",
                "public_fire_points",
                f"Two public fire points are labelled {point.label!r}; labels must differ.",
            )
        seen.add(key)
    return [point.model_dump() for point in points]


async def _check_leader_account(
    session: AsyncSession, user_id: uuid.UUID, neighbourhood_id: uuid.UUID
) -> None:
    if not await holds_role(session, user_id, Role.GROUP_LEADER, neighbourhood_id=neighbourhood_id):
        raise rule_violation(
            "fire_team_leader_account",
            "leader_user_id",
            f"No active group_leader account of the team's neighbourhood has the id {user_id}.",
        )


async def _ensure_name_free(
    session: AsyncSession,
    neighbourhood_id: uuid.UUID,
    name: str,
    *,
    except_id: uuid.UUID | None = None,
) -> None:
    # Names are unique among a neighbourhood's live teams (an index says so), so the one
    # holder found is the only one.
    holder = await taken(FIRE_TEAMS, session, neighbourhood_id=neighbourhood_id, name=name)
    if holder is not None and holder.id != except_id:
        raise Conflict(f"The neighbourhood already has a fire team named {name!r}.")


async def _ensure_nothing_kept_at(
    session: AsyncSession, team_id: uuid.UUID, column: Any, labels: set[str], what: str
) -> None:
    """Refuse to drop households or public points that still hold equipment."""
    if not labels:
        return
    kept = await counts.equipment_kept_at(session, team_id, column, labels)
    if kept:
        raise Conflict(
            f"{kept} equipment items are kept at {what} this change removes; "
            "move or delete them first."
        )


def _not_null(changes: dict[str, Any], *names: str) -> None:
    nulls = sorted(name for name in names if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)


# --- reads -------------------------------------------------------------------------


async def list_teams(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    status: str | None = None,
    leader_user_id: uuid.UUID | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Teams in the principal's scope, by name."""
    return await FIRE_TEAMS.page(
        session,
        principal,
        page,
        codec,
        ward_code=ward_code,
        neighbourhood_id=neighbourhood_id,
        status=status,
        leader_user_id=leader_user_id,
    )


async def get_team(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Any:
    """One team in scope, as a row (404 outside it)."""
    return await FIRE_TEAMS.get(session, principal, team_id)


async def get_team_for_update(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID
) -> FireTeam:
    """One team in scope, as the record to change (404 outside it)."""
    return await FIRE_TEAMS.get_for_update(session, principal, team_id)


async def referenced_team(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Any:
    """The team a request body names, as a row: one the principal cannot see is a 422,
    like a missing one."""
    try:
        return await get_team(session, principal, team_id)
    except NotFound:
        raise ValidationFailed.field(
            ("body", "team_id"),
            f"No fire team you can see has the id {team_id}.",
            FieldErrorType.NOT_FOUND,
        ) from None


# --- writes ------------------------------------------------------------------------


async def create_team(
    session: AsyncSession, principal: Principal, data: FireTeamCreate
) -> FireTeam:
    """Set up a team in a neighbourhood the principal manages."""
    place = await NEIGHBOURHOODS.find(session, None, data.neighbourhood_id)
    if place is None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"No neighbourhood has the id {data.neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )
    if data.ward_code is not None and data.ward_code != place.ward_code:
        raise ValidationFailed.field(
            ("body", "ward_code"),
            f"The neighbourhood lies in ward {place.ward_code}, not {data.ward_code}.",
        )
    reason = can_manage_team(principal, place.ward_code, data.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    households = check_households(data.households)
    points = check_public_points(data.public_fire_points)
    if data.leader_user_id is not None:
        await _check_leader_account(session, data.leader_user_id, data.neighbourhood_id)
    await _ensure_name_free(session, data.neighbourhood_id, data.name)
    team = FireTeam(
        province_code=place.province_code,
        ward_code=place.ward_code,
        neighbourhood_id=data.neighbourhood_id,
        name=data.name,
        leader_user_id=data.leader_user_id,
        leader_name=data.leader_member.name,
        leader_phone=data.leader_member.phone,
        households=households,
        public_fire_points=points,
        status=data.status.value,
    )
    fields = data.model_fields_set | {
        "neighbourhood_id",
        "name",
        "leader_member",
        "households",
        "status",
    }
    return await FIRE_TEAMS.insert(session, principal, team, fields=fields)


async def update_team(
    session: AsyncSession,
    principal: Principal,
    team_id: uuid.UUID,
    expected_version: int,
    data: FireTeamUpdate,
) -> FireTeam:
    """Change a team, if it is still at ``expected_version``."""
    team = await get_team_for_update(session, principal, team_id)
    reason = can_manage_team(principal, team.ward_code, team.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    changes = data.model_dump(exclude_unset=True)
    _not_null(changes, "name", "leader_member", "households", "public_fire_points", "status")
    values: dict[str, Any] = {}
    if "name" in changes:
        await _ensure_name_free(session, team.neighbourhood_id, data.name or "", except_id=team.id)
        values["name"] = changes["name"]
    if data.leader_member is not None:
        values["leader_name"] = data.leader_member.name
        values["leader_phone"] = data.leader_member.phone
    if "leader_user_id" in changes:
        if data.leader_user_id is not None:
            await _check_leader_account(session, data.leader_user_id, team.neighbourhood_id)
        values["leader_user_id"] = data.leader_user_id
    if data.households is not None:
        households = check_households(data.households)
        await _ensure_nothing_kept_at(
            session,
            team.id,
            col(FireEquipment.household),
            set(team.households) - set(households),
            "households",
        )
        # household_count follows (derived by the unit of write).
        values["households"] = households
    if data.public_fire_points is not None:
        points = check_public_points(data.public_fire_points)
        await _ensure_nothing_kept_at(
            session,
            team.id,
            col(FireEquipment.public_point),
            {p["label"] for p in team.public_fire_points} - {p["label"] for p in points},
            "public fire points",
        )
        values["public_fire_points"] = points
    if data.status is not None:
        values["status"] = data.status.value
    return await FIRE_TEAMS.update(
        session, principal, team, expected_version, values, fields=changes
    )


async def delete_team(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a team with no drills or competition entries; its equipment goes with it."""
    team = await get_team_for_update(session, principal, team_id)
    reason = can_manage_team(principal, team.ward_code, team.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    for history, what in (
        (await counts.team_drills(session, team.id), "drills"),
        (await counts.team_entries(session, team.id), "competition entries"),
    ):
        if history:
            raise Conflict(
                f"The team has {history} {what}, which are its history: "
                "set its status to disbanded instead."
            )
    await FIRE_TEAMS.delete(session, principal, team, expected_version)
    # Its kit goes with it, each item with its own delete event.
    await delete_all(EQUIPMENT, session, principal, team_id=team.id)
