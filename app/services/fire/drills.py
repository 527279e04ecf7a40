"""Fire drills: planned, then held with their results, for the teams in scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Present, Repository
from app.data.visibility import by_unit
from app.db import columns, compare_and_set, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.drills import Drill
from app.models.fire_teams import FireTeam
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.drills import DrillCreate, DrillUpdate
from app.schemas.fire_teams import FireTeamStatus
from app.security import Principal
from app.services import audit as audit_service
from app.services import fire_teams as team_service
from app.services.fire_policies import VIETNAM, can_record_for_team, rule_violation

DRILLS = Repository(
    Drill,
    noun="drill",
    columns=(
        Drill.id,
        Drill.province_code,
        Drill.ward_code,
        Drill.neighbourhood_id,
        Drill.team_id,
        Drill.scenario,
        Drill.planned_for,
        Drill.held_at,
        Drill.occurs_on,
        Drill.participants,
        Drill.households_present,
        Drill.response_seconds,
        Drill.outcome,
        Drill.notes,
        Drill.created_at,
        Drill.updated_at,
        Drill.version,
    ),
    visible=by_unit,
    keyset=Keyset("drills", columns(Drill.occurs_on, Drill.id)),
    # Named as the query parameters: a cursor's scope is made of these names, as before.
    filters={
        "team_id": Drill.team_id,
        "ward_code": Drill.ward_code,
        "neighbourhood_id": Drill.neighbourhood_id,
        "held": Present(Drill.held_at),
        "outcome": Drill.outcome,
        "from": Filter(Drill.occurs_on, ">="),
        "to": Filter(Drill.occurs_on, "<="),
    },
)
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


def occurs_on(planned_for: date, held_at: datetime | None) -> date:
    """The drill's day: the Vietnamese calendar day it was held, else the day planned."""
    return held_at.astimezone(VIETNAM).date() if held_at is not None else planned_for


def _check(team: FireTeam, state: dict[str, Any]) -> None:
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


async def get_drill_row(session: AsyncSession, principal: Principal, drill_id: uuid.UUID) -> Any:
    """One drill in scope, as a row (404 outside it)."""
    return await DRILLS.get(session, principal, drill_id)


async def _writable_drill(
    session: AsyncSession, principal: Principal, drill_id: uuid.UUID
) -> tuple[Drill, FireTeam]:
    drill = await DRILLS.get_for_update(session, principal, drill_id)
    team = await session.get(FireTeam, drill.team_id)
    assert team is not None  # a team with drills is never deleted
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
        occurs_on=occurs_on(data.planned_for, data.held_at),
    )
    session.add(drill)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "drill",
        drill.id,
        province_code=drill.province_code,
        ward_code=drill.ward_code,
        changed_fields=data.model_fields_set | {"team_id", "scenario", "planned_for"},
    )
    return drill


async def update_drill(
    session: AsyncSession,
    principal: Principal,
    drill_id: uuid.UUID,
    expected_version: int,
    data: DrillUpdate,
) -> Drill:
    """Change a drill (record it held, with results), if it is still at the version."""
    drill, team = await _writable_drill(session, principal, drill_id)
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(n for n in ("scenario", "planned_for") if n in changes and changes[n] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if changes.get("outcome") is not None:
        changes["outcome"] = str(changes["outcome"])
    state = {name: getattr(drill, name) for name in _FIELDS} | changes
    _check(team, state)
    values = {**changes, "occurs_on": occurs_on(state["planned_for"], state["held_at"])}
    await compare_and_set(session, drill, expected_version, values)
    audit_service.record(
        session,
        principal,
        "update",
        "drill",
        drill.id,
        province_code=drill.province_code,
        ward_code=drill.ward_code,
        changed_fields=changes,
    )
    return drill


async def delete_drill(
    session: AsyncSession, principal: Principal, drill_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a drill recorded by mistake."""
    drill, _ = await _writable_drill(session, principal, drill_id)
    await compare_and_set(session, drill, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "drill",
        drill.id,
        province_code=drill.province_code,
        ward_code=drill.ward_code,
    )
