"""Fire-team equipment: the items, each house's readiness, and what falls due."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.visibility import by_unit
from app.db import columns, compare_and_set, fetch_rows, utcnow
from app.errors import Forbidden, ValidationFailed
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.fire_equipment import REQUIRED_KIT, FireEquipmentCreate, FireEquipmentUpdate
from app.security import Principal
from app.services import audit as audit_service
from app.services import fire_policies
from app.services import fire_teams as team_service
from app.services.fire_policies import rule_violation

EQUIPMENT_DUE = Keyset("equipment-due", columns(FireEquipment.due_on, FireEquipment.id))
_COLUMNS = columns(
    FireEquipment.id,
    FireEquipment.province_code,
    FireEquipment.ward_code,
    FireEquipment.neighbourhood_id,
    FireEquipment.team_id,
    FireEquipment.kind,
    FireEquipment.household,
    FireEquipment.public_point,
    FireEquipment.description,
    FireEquipment.quantity,
    FireEquipment.last_inspected_on,
    FireEquipment.inspection_interval_months,
    FireEquipment.next_inspection_on,
    FireEquipment.expires_on,
    FireEquipment.due_on,
    FireEquipment.created_at,
    FireEquipment.updated_at,
    FireEquipment.version,
)
# An item carries its team's place (copied when it is recorded; a team never
# moves), so the team's rule says who sees it. Its reads go through the team:
# the team's own 404 first, then the item under the team's id.
EQUIPMENT = Repository(
    FireEquipment,
    noun="equipment item",
    columns=_COLUMNS,
    visible=by_unit,
    keyset=Keyset("fire-equipment", columns(FireEquipment.created_at, FireEquipment.id)),
    filters={
        "team_id": FireEquipment.team_id,
        "kind": FireEquipment.kind,
        "household": FireEquipment.household,
    },
    missing="The team has no equipment item with the id {id}.",
)
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


# --- dates -----------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; the month's last day when it is shorter (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(
    last_inspected_on: date | None, interval_months: int | None, expires_on: date | None
) -> tuple[date | None, date | None]:
    """(next_inspection_on, due_on): the next inspection, and the earlier of it and expiry."""
    next_inspection_on = (
        add_months(last_inspected_on, interval_months)
        if last_inspected_on is not None and interval_months is not None
        else None
    )
    dates = [d for d in (next_inspection_on, expires_on) if d is not None]
    return next_inspection_on, min(dates) if dates else None


def is_late(next_inspection_on: date | None, as_of: date) -> bool:
    """Inspected late: the due day has passed (an inspection on the due day is on time)."""
    return next_inspection_on is not None and next_inspection_on < as_of


def is_expired(expires_on: date | None, as_of: date) -> bool:
    """Expired: the expiry day has passed (an item is still good on its expiry day)."""
    return expires_on is not None and expires_on < as_of


# --- rules -------------------------------------------------------------------------


def _check(team: FireTeam, state: dict[str, Any]) -> None:
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
    if last is not None and last > fire_policies.today():
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
    await team_service.get_team_row(session, principal, team_id)
    return await EQUIPMENT.page(
        session, principal, page, codec, team_id=team_id, kind=kind, household=household
    )


async def get_equipment(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, equipment_id: uuid.UUID
) -> Any:
    """One item of a visible team, as a row (404 otherwise)."""
    await team_service.get_team_row(session, principal, team_id)
    return await EQUIPMENT.get(session, principal, equipment_id, team_id=team_id)


async def readiness(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID, as_of: date | None = None
) -> dict[str, Any]:
    """Per house: which required kit is missing, inspected late or expired on ``as_of``."""
    team = await team_service.get_team_row(session, principal, team_id)
    as_of = as_of or fire_policies.today()
    required = [kind.value for kind in REQUIRED_KIT]
    items = await fetch_rows(
        session,
        select(
            *columns(
                FireEquipment.id,
                FireEquipment.kind,
                FireEquipment.household,
                FireEquipment.next_inspection_on,
                FireEquipment.expires_on,
            )
        )
        .where(
            col(FireEquipment.team_id) == team_id,
            col(FireEquipment.deleted_at).is_(None),
            col(FireEquipment.household).is_not(None),
            col(FireEquipment.kind).in_(required),
            col(FireEquipment.quantity) >= 1,
        )
        .order_by(col(FireEquipment.created_at), col(FireEquipment.id)),
    )
    by_house: dict[str, list[Any]] = {}
    for item in items:
        by_house.setdefault(item.household, []).append(item)
    households = []
    for household in team.households:
        kept = by_house.get(household, [])
        kinds = {item.kind for item in kept}
        late = [
            {"equipment_id": i.id, "kind": i.kind, "next_inspection_on": i.next_inspection_on}
            for i in kept
            if is_late(i.next_inspection_on, as_of)
        ]
        expired = [
            {"equipment_id": i.id, "kind": i.kind, "expires_on": i.expires_on}
            for i in kept
            if is_expired(i.expires_on, as_of)
        ]
        missing = [kind for kind in required if kind not in kinds]
        households.append(
            {
                "household": household,
                "ready": not (missing or late or expired),
                "missing": missing,
                "inspection_late": late,
                "expired": expired,
            }
        )
    households_ready = sum(1 for house in households if house["ready"])
    return {
        "team_id": team.id,
        "as_of": as_of,
        "required_kit": required,
        "ready": households_ready == len(households),
        "households_ready": households_ready,
        "household_count": len(households),
        "households": households,
    }


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
    statement = (
        select(*_COLUMNS, col(FireTeam.name).label("team_name"))
        .join(FireTeam, col(FireTeam.id) == col(FireEquipment.team_id))
        .where(
            fire_policies.unit_scope(
                principal,
                col(FireEquipment.province_code),
                col(FireEquipment.ward_code),
                col(FireEquipment.neighbourhood_id),
            ),
            col(FireEquipment.deleted_at).is_(None),
            # due_on is the earlier of the two dates: one indexed comparison.
            col(FireEquipment.due_on) < before,
        )
    )
    if ward_code:
        statement = statement.where(col(FireEquipment.ward_code) == ward_code)
    if team_id:
        statement = statement.where(col(FireEquipment.team_id) == team_id)
    if kind:
        statement = statement.where(col(FireEquipment.kind) == kind)
    filters = {"before": before, "ward_code": ward_code, "team_id": team_id, "kind": kind}
    rows, next_cursor = await fetch_page(session, statement, EQUIPMENT_DUE, page, codec, filters)
    items = []
    for row in rows:
        due_for = []
        if row.next_inspection_on is not None and row.next_inspection_on < before:
            due_for.append("inspection")
        if row.expires_on is not None and row.expires_on < before:
            due_for.append("expiry")
        items.append({**row._mapping, "due_for": due_for})
    return items, next_cursor


# --- writes ------------------------------------------------------------------------


async def _recordable_team(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID
) -> FireTeam:
    team = await team_service.get_team(session, principal, team_id)
    reason = fire_policies.can_record_for_team(principal, team)
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
    next_inspection_on, due_on = schedule(
        data.last_inspected_on, data.inspection_interval_months, data.expires_on
    )
    item = FireEquipment(
        province_code=team.province_code,
        ward_code=team.ward_code,
        neighbourhood_id=team.neighbourhood_id,
        team_id=team.id,
        **{**state, "kind": data.kind.value},
        next_inspection_on=next_inspection_on,
        due_on=due_on,
    )
    session.add(item)
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "fire_equipment",
        item.id,
        province_code=item.province_code,
        ward_code=item.ward_code,
        changed_fields=data.model_fields_set | {"kind", "quantity"},
    )
    return item


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
    next_inspection_on, due_on = schedule(
        state["last_inspected_on"], state["inspection_interval_months"], state["expires_on"]
    )
    values = {**changes, "next_inspection_on": next_inspection_on, "due_on": due_on}
    await compare_and_set(session, item, expected_version, values)
    audit_service.record(
        session,
        principal,
        "update",
        "fire_equipment",
        item.id,
        province_code=item.province_code,
        ward_code=item.ward_code,
        changed_fields=changes,
    )
    return item


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
    await compare_and_set(session, item, expected_version, {"deleted_at": utcnow()})
    audit_service.record(
        session,
        principal,
        "delete",
        "fire_equipment",
        item.id,
        province_code=item.province_code,
        ward_code=item.ward_code,
    )
