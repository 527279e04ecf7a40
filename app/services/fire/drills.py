"""Fire drills: planned, then held with their results, for the teams in scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.drills import Drill
from app.pagination import CursorCodec, PageParams
from app.schemas.drills import DrillCreate, DrillUpdate
from app.schemas.fire_teams import FireTeamStatus
from app.security import Principal
from app.services.fire import teams as team_service
from app.services.fire.policies import can_record_for_team, rule_violation
from app.services.fire.records import DRILLS, FIRE_TEAMS

_FIELDS = (
    "scenario",
    "planned_for",
    "held_at",
    "participants",
    "households_present",
    "response_seconds",
    "outcome",
    "notes",
)
RESULT_FIELDS = ("participants", "households_present", "response_seconds", "outcome")
# Phones and ward clocks drift: "held" a few minutes ahead of our clock is still now.
CLOCK_SKEW = timedelta(minutes=5)


def _check(team: Any, state: dict[str, Any]) -> None:
    """The rules a drill keeps, on its whole state after a create or an update."""
    if state["held_at"] is None:
        recorded = [name for name in RESULT_FIELDS if state[name] is not None]
        if recorded:
            raise rule_violation(
                "drill_results_need_held_at",
                recorded[0],
                f"{', '.join(recorded)} are results of a held drill: set held_at as well.",
            )
    elif state["held_at"] > utcnow() + CLOCK_SKEW:
        raise rule_violation(
            "drill_held_in_future", "held_at", "held_at is in the future; plan it with planned_for."
        )
    present = state["households_present"]
    if present is not None and present > team.household_count:
        raise rule_violation(
            "drill_households_present",
            "households_present",
            f"The team has {team.household_count} households; {present} cannot be present.",
        )


async def list_drills(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    team_id: uuid.UUID | None = None,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    held: bool | None = None,
    outcome: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[Sequence[Any], str | None]:
    """Drills in scope in calendar order, filtered by team, place, held or not, and days."""
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed.field(
            ("query", "from"), "from is after to.", FieldErrorType.LESS_THAN_EQUAL
        )
    filters = {
        "team_id": team_id,
        "ward_code": ward_code,
        "neighbourhood_id": neighbourhood_id,
        "held": held,
        "outcome": outcome,
        "from": date_from,
        "to": date_to,
    }
    return await DRILLS.page(session, principal, page, codec, **filters)


async def get_drill(session: AsyncSession, principal: Principal, drill_id: uuid.UUID) -> Any:
    """One drill in scope, as a row (404 outside it)."""
    return await DRILLS.get(session, principal, drill_id)


async def _drill_to_change(
    session: AsyncSession, principal: Principal, drill_id: uuid.UUID
) -> tuple[Drill, Any]:
    """A drill in scope as the record to change, and its team (as a row) if the principal
    records for it (403 otherwise)."""
    drill = await DRILLS.get_for_update(session, principal, drill_id)
    # The drill carries its team's place, so the team is in scope too (and a team with
    # drills is never deleted).
    team = await FIRE_TEAMS.get(session, principal, drill.team_id)
    reason = can_record_for_team(principal, team)
    if reason:
        raise Forbidden(reason)
    return drill, team


async def create_drill(session: AsyncSession, principal: Principal, data: DrillCreate) -> Drill:
    """Plan (or record) a drill for a team the principal records for."""
    team = await team_service.referenced_team(session, principal, data.team_id)
    reason = can_record_for_team(principal, team)
    if reason:
        raise Forbidden(reason)
    if team.status == FireTeamStatus.DISBANDED:
        raise Conflict("The team is disbanded; it holds no more drills.")
    state = data.model_dump(exclude={"team_id"})
    _check(team, state)
    drill = Drill(
        province_code=team.province_code,
        ward_code=team.ward_code,
        neighbourhood_id=team.neighbourhood_id,
        team_id=team.id,
        **{**state, "outcome": data.outcome.value if data.outcome else None},
    )
    # occurs_on follows (derived by the unit of write).
    return await DRILLS.insert(
        session,
        principal,
        drill,
        fields=data.model_fields_set | {"team_id", "scenario", "planned_for"},
    )


async def update_drill(
    session: AsyncSession,
    principal: Principal,
    drill_id: uuid.UUID,
    expected_version: int,
    data: DrillUpdate,
) -> Drill:
    """Change a drill (record it held, with results), if it is still at the version."""
    drill, team = await _drill_to_change(session, principal, drill_id)
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(n for n in ("scenario", "planned_for") if n in changes and changes[n] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if changes.get("outcome") is not None:
        changes["outcome"] = str(changes["outcome"])
    state = {name: getattr(drill, name) for name in _FIELDS} | changes
    _check(team, state)
    # occurs_on follows (derived by the unit of write).
    return await DRILLS.update(session, principal, drill, expected_version, changes, fields=changes)


async def delete_drill(
    session: AsyncSession, principal: Principal, drill_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a drill recorded by mistake."""
    drill, _ = await _drill_to_change(session, principal, drill_id)
    await DRILLS.delete(session, principal, drill, expected_version)
