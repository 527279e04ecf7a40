"""Fire-team equipment: the items kept at a team's houses and public points, and what
falls due. (Each house's readiness is in ``readiness``.)"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Forbidden, ValidationFailed
from app.models.fire_equipment import FireEquipment
from app.pagination import CursorCodec, PageParams
from app.schemas.fire_equipment import FireEquipmentCreate, FireEquipmentUpdate
from app.security import Principal
from app.services.fire import policies
from app.services.fire import teams as team_service
from app.services.fire.policies import rule_violation
from app.services.fire.records import EQUIPMENT, EQUIPMENT_DUE

_FIELDS = (
    "kind",
    "household",
    "public_point",
    "description",
    "quantity",
    "last_inspected_on",
    "inspection_interval_months",
    "expires_on",
)


# --- rules -------------------------------------------------------------------------


def _check(team: Any, state: dict[str, Any]) -> None:
    """The rules an item keeps, on its whole state after a create or an update."""
    household, public_point = state["household"], state["public_point"]
    if (household is None) == (public_point is None):
        raise rule_violation(
            "equipment_location",
            "household",
            "Give exactly one of household (a house of the team) and public_point.",
        )
    if household is not None and household not in team.households:
        raise rule_violation(
            "equipment_location", "household", "The household is not one of the team's households."
        )
    if public_point is not None and public_point not in {
        point["label"] for point in team.public_fire_points
    }:
        raise rule_violation(
            "equipment_location",
            "public_point",
            "The public_point is not one of the team's public fire points.",
        )
    last, interval = state["last_inspected_on"], state["inspection_interval_months"]
    if (last is None) != (interval is None):
        raise rule_violation(
            "equipment_inspection_schedule",
            "last_inspected_on" if last is None else "inspection_interval_months",
            "last_inspected_on and inspection_interval_months come together or not at all.",
        )
    if last is not None and last > policies.today():
        raise rule_violation(
            "equipment_inspection_schedule",
            "last_inspected_on",
            "last_inspected_on cannot be in the future.",
        )


# --- reads -------------------------------------------------------------------------


async def list_equipment(
    session: AsyncSession,
    principal: Principal,
    team_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
    *,
    kind: str | None = None,
    household: str | None = None,
) -> tuple[Sequence[Any], str | None]:
    """A visible team's equipment, oldest record first."""
    await team_service.get_team(session, principal, team_id)
    return await EQUIPMENT.page(
        session, principal, page, codec, team_id=team_id, kind=kind, household=household
    )


async def get_equipment(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, equipment_id: uuid.UUID
) -> Any:
    """One item of a visible team, as a row (404 otherwise)."""
    await team_service.get_team(session, principal, team_id)
    return await EQUIPMENT.get(session, principal, equipment_id, team_id=team_id)


async def list_due(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    before: date,
    ward_code: str | None = None,
    team_id: uuid.UUID | None = None,
    kind: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Items in scope whose next inspection or expiry falls before ``before``, soonest first."""
    rows, next_cursor = await EQUIPMENT_DUE.page(
        session,
        principal,
        page,
        codec,
        before=before,
        ward_code=ward_code,
        team_id=team_id,
        kind=kind,
    )
    items = []
    for row in rows:
        due_for = []
        if row.next_inspection_on is not None and row.next_inspection_on < before:
            due_for.append("inspection")
        if row.expires_on is not None and row.expires_on < before:
            due_for.append("expiry")
        items.append({**row._asdict(), "due_for": due_for})
    return items, next_cursor


# --- writes ------------------------------------------------------------------------


async def _recordable_team(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Any:
    """The team an item is recorded for (a row: the item changes, not the team)."""
    team = await team_service.get_team(session, principal, team_id)
    reason = policies.can_record_for_team(principal, team)
    if reason:
        raise Forbidden(reason)
    return team


async def create_equipment(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, data: FireEquipmentCreate
) -> FireEquipment:
    """Record an item at a house or public point of a team the principal records for."""
    team = await _recordable_team(session, principal, team_id)
    state = data.model_dump()
    _check(team, state)
    # next_inspection_on and due_on follow (derived by the unit of write).
    item = FireEquipment(
        province_code=team.province_code,
        ward_code=team.ward_code,
        neighbourhood_id=team.neighbourhood_id,
        team_id=team.id,
        **{**state, "kind": data.kind.value},
    )
    return await EQUIPMENT.insert(
        session, principal, item, fields=data.model_fields_set | {"kind", "quantity"}
    )


async def update_equipment(
    session: AsyncSession,
    principal: Principal,
    team_id: uuid.UUID,
    equipment_id: uuid.UUID,
    expected_version: int,
    data: FireEquipmentUpdate,
) -> FireEquipment:
    """Change an item (an inspection: a new last_inspected_on), if still at the version."""
    team = await _recordable_team(session, principal, team_id)
    item = await EQUIPMENT.get_for_update(session, principal, equipment_id, team_id=team_id)
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(
        name for name in ("kind", "quantity") if name in changes and changes[name] is None
    )
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if "kind" in changes:
        changes["kind"] = str(changes["kind"])
    state = {name: getattr(item, name) for name in _FIELDS} | changes
    _check(team, state)
    # next_inspection_on and due_on follow (derived by the unit of write).
    return await EQUIPMENT.update(
        session, principal, item, expected_version, changes, fields=changes
    )


async def delete_equipment(
    session: AsyncSession,
    principal: Principal,
    team_id: uuid.UUID,
    equipment_id: uuid.UUID,
    expected_version: int,
) -> None:
    """Remove an item (given away, used up, scrapped)."""
    await _recordable_team(session, principal, team_id)
    item = await EQUIPMENT.get_for_update(session, principal, equipment_id, team_id=team_id)
    await EQUIPMENT.delete(session, principal, item, expected_version)
