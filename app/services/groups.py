"""Self-managed groups: who sees and manages which, and the register itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, update
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, NotFound, ValidationFailed
from app.models.groups import ExemplaryModel, GroupMember, GroupResidentialGroup, SelfManagedGroup
from app.models.units import Neighbourhood, Ward
from app.pagination import CursorCodec, Keyset, PageParams, fetch_page
from app.schemas.groups import GroupCreate, GroupKind, GroupStatus, GroupUpdate
from app.security import Principal, Role
from app.services import audit as audit_service
from app.services import group_coverage as coverage
from app.services import units as unit_service
from app.text import fold

Group = SelfManagedGroup
GROUPS = Keyset("groups", columns(Group.created_at, Group.id))

# Residents and camera owners read names and kinds only (GroupSummaryRead).
SUMMARY_ROLES = frozenset({Role.RESIDENT, Role.CAMERA_OWNER})

_SUMMARY_COLUMNS = columns(
    Group.id,
    Group.created_at,
    Group.updated_at,
    Group.version,
    Group.province_code,
    Group.ward_code,
    Group.neighbourhood_id,
    Group.kind,
    Group.name,
    Group.status,
)


_FULL_COLUMNS = (
    *_SUMMARY_COLUMNS,
    *columns(
        Group.households_covered,
        Group.founded_on,
        Group.founding_decision_no,
        Group.charter_notes,
        Group.households_linked,
    ),
    coverage.area_households(),
)


# --- who sees and manages what ------------------------------------------------


def led_group_ids(principal: Principal) -> Select[Any]:
    """Ids of the groups whose active leader signs in as ``principal``."""
    return select(col(GroupMember.group_id)).where(
        col(GroupMember.user_id) == principal.subject,
        col(GroupMember.position) == "leader",
        col(GroupMember.left_on).is_(None),
        col(GroupMember.deleted_at).is_(None),
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The groups ``principal`` may see (deleted ones never); default deny."""
    live = col(Group.deleted_at).is_(None)
    role = principal.role
    if role is Role.ADMIN:
        return live
    if role is Role.PROVINCE_OFFICER and principal.province_code:
        return live & (col(Group.province_code) == principal.province_code)
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM, *SUMMARY_ROLES) and principal.ward_code:
        return live & (col(Group.ward_code) == principal.ward_code)
    if role is Role.WARD_SYSTEM and principal.province_code:
        return live & (col(Group.province_code) == principal.province_code)
    if role is Role.NEIGHBOURHOOD_HEAD and principal.neighbourhood_id:
        return live & (col(Group.neighbourhood_id) == principal.neighbourhood_id)
    if role is Role.GROUP_LEADER and principal.kind == "user":
        # Their neighbourhood's groups, and whatever group they lead (a ward-wide team).
        mine: ColumnElement[bool] = col(Group.id).in_(led_group_ids(principal))
        if principal.neighbourhood_id:
            mine = or_(col(Group.neighbourhood_id) == principal.neighbourhood_id, mine)
        return live & mine
    return false()


def summary_only(principal: Principal) -> bool:
    """Whether ``principal`` sees groups' names and kinds only."""
    return principal.role in SUMMARY_ROLES


def can_manage_group(
    principal: Principal, ward_code: str, neighbourhood_id: uuid.UUID | None
) -> str | None:
    """Why ``principal`` may not manage a group of this ward and neighbourhood (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER:
        if principal.ward_code == ward_code:
            return None
        return "A ward officer manages only the groups of their own ward."
    if principal.role is Role.NEIGHBOURHOOD_HEAD:
        if neighbourhood_id is not None and neighbourhood_id == principal.neighbourhood_id:
            return None
        if neighbourhood_id is None:
            return "Ward-wide groups are managed by ward officers; give your neighbourhood_id."
        return "A neighbourhood head manages only the groups of their own neighbourhood."
    return "Only ward officers, neighbourhood heads and administrators manage groups."


async def visible_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> SelfManagedGroup:
    """One group ``principal`` may see, as an ORM object (404 otherwise)."""
    group = (
        await session.exec(select_model(Group).where(col(Group.id) == group_id, visible(principal)))
    ).first()
    if group is None:
        raise NotFound(f"No group has the id {group_id}.")
    return group


# --- reads ---------------------------------------------------------------------


async def _present(
    session: AsyncSession, rows: Sequence[Any], *, summary: bool
) -> list[dict[str, Any]]:
    items = [dict(row._mapping) for row in rows]
    if summary:
        for item in items:
            item["view"] = "summary"
        return items
    covered = await coverage.covered_ids(session, (item["id"] for item in items))
    for item in items:
        item["view"] = "full"
        item["covered_residential_group_ids"] = covered[item["id"]]
    return items


async def list_groups(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    codec: CursorCodec,
    *,
    kind: GroupKind | None = None,
    ward_code: str | None = None,
    neighbourhood_id: uuid.UUID | None = None,
    status: GroupStatus | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Groups ``principal`` may see, oldest first, by kind, unit, status and name."""
    summary = summary_only(principal)
    statement = select(*(_SUMMARY_COLUMNS if summary else _FULL_COLUMNS)).where(visible(principal))
    if kind:
        statement = statement.where(col(Group.kind) == kind.value)
    if ward_code:
        statement = statement.where(col(Group.ward_code) == ward_code)
    if neighbourhood_id:
        statement = statement.where(col(Group.neighbourhood_id) == neighbourhood_id)
    if status:
        statement = statement.where(col(Group.status) == status.value)
    if q:
        statement = statement.where(unit_service.name_matches(col(Group.search_key), q))
    filters = {
        "kind": kind.value if kind else None,
        "ward_code": ward_code,
        "neighbourhood_id": neighbourhood_id,
        "status": status.value if status else None,
        "q": fold(q or "") or None,
        "view": "summary" if summary else "full",
    }
    rows, next_cursor = await fetch_page(session, statement, GROUPS, page, codec, filters)
    return await _present(session, rows, summary=summary), next_cursor


async def get_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> dict[str, Any]:
    """One group in the view ``principal`` gets (404 outside their units)."""
    summary = summary_only(principal)
    row = await fetch_row(
        session,
        select(*(_SUMMARY_COLUMNS if summary else _FULL_COLUMNS)).where(
            col(Group.id) == group_id, visible(principal)
        ),
    )
    if row is None:
        raise NotFound(f"No group has the id {group_id}.")
    return (await _present(session, [row], summary=summary))[0]


async def _full(session: AsyncSession, group_id: uuid.UUID) -> dict[str, Any]:
    row = await fetch_row(session, select(*_FULL_COLUMNS).where(col(Group.id) == group_id))
    assert row is not None
    return (await _present(session, [row], summary=False))[0]


# --- writes --------------------------------------------------------------------


async def _live_neighbourhood(session: AsyncSession, neighbourhood_id: uuid.UUID) -> Neighbourhood:
    neighbourhood = await session.get(Neighbourhood, neighbourhood_id)
    if neighbourhood is None or neighbourhood.deleted_at is not None:
        raise ValidationFailed.field(
            ("body", "neighbourhood_id"),
            f"No neighbourhood has the id {neighbourhood_id}.",
            FieldErrorType.NOT_FOUND,
        )
    return neighbourhood


def _check_households_linked(kind: str, households_linked: int | None) -> None:
    if households_linked is not None and kind != GroupKind.CRIME_PREVENTION_CHANNEL.value:
        raise ValidationFailed.field(
            ("body", "households_linked"),
            "households_linked is only for crime-prevention channels.",
            "households_linked_channel_only",
            rule="households_linked_channel_only",
        )


async def create_group(
    session: AsyncSession, principal: Principal, data: GroupCreate
) -> dict[str, Any]:
    """Register a group in a ward or neighbourhood the principal manages."""
    if data.neighbourhood_id is not None:
        neighbourhood = await _live_neighbourhood(session, data.neighbourhood_id)
        if data.ward_code is not None and data.ward_code != neighbourhood.ward_code:
            raise ValidationFailed.field(
                ("body", "ward_code"),
                f"Neighbourhood {neighbourhood.id} is in ward {neighbourhood.ward_code}, "
                f"not {data.ward_code}.",
            )
        province_code, ward_code = neighbourhood.province_code, neighbourhood.ward_code
    elif data.ward_code is not None:
        ward = await session.get(Ward, data.ward_code)
        if ward is None:
            raise ValidationFailed.field(
                ("body", "ward_code"),
                f"No ward has the code {data.ward_code!r}.",
                FieldErrorType.NOT_FOUND,
            )
        province_code, ward_code = ward.province_code, ward.code
    else:
        raise ValidationFailed.missing_one_of(
            [("body", "neighbourhood_id"), ("body", "ward_code")],
            "Give neighbourhood_id, or ward_code for a ward-wide group.",
        )
    reason = can_manage_group(principal, ward_code, data.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    _check_households_linked(data.kind.value, data.households_linked)
    covered = await coverage.check_covered(
        session, data.covered_residential_group_ids, ward_code, data.neighbourhood_id
    )
    values = data.model_dump(exclude={"covered_residential_group_ids", "ward_code"})
    group = Group(
        **values,
        province_code=province_code,
        ward_code=ward_code,
        search_key=fold(data.name),
    )
    session.add(group)
    await session.flush()
    session.add_all(
        GroupResidentialGroup(group_id=group.id, residential_group_id=covered_id)
        for covered_id in covered
    )
    await session.flush()
    audit_service.record(
        session,
        principal,
        "create",
        "group",
        group.id,
        province_code=province_code,
        ward_code=ward_code,
        changed_fields=data.model_fields_set | {"kind", "name", "status"},
    )
    return await _full(session, group.id)


async def _manageable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> SelfManagedGroup:
    group = await visible_group(session, principal, group_id)
    reason = can_manage_group(principal, group.ward_code, group.neighbourhood_id)
    if reason:
        raise Forbidden(reason)
    return group


async def update_group(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    expected_version: int,
    data: GroupUpdate,
) -> dict[str, Any]:
    """Change a group, if it is still at ``expected_version``."""
    group = await _manageable_group(session, principal, group_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(
        k
        for k in ("name", "status", "covered_residential_group_ids")
        if k in changes and changes[k] is None
    )
    if nulls:
        raise ValidationFailed.not_null(nulls)
    neighbourhood_id = changes.get("neighbourhood_id", group.neighbourhood_id)
    if "neighbourhood_id" in changes and neighbourhood_id != group.neighbourhood_id:
        if neighbourhood_id is not None:
            neighbourhood = await _live_neighbourhood(session, neighbourhood_id)
            if neighbourhood.ward_code != group.ward_code:
                raise ValidationFailed.field(
                    ("body", "neighbourhood_id"),
                    f"A group stays in its ward ({group.ward_code}); "
                    f"neighbourhood {neighbourhood_id} is in {neighbourhood.ward_code}.",
                )
        reason = can_manage_group(principal, group.ward_code, neighbourhood_id)
        if reason:
            raise Forbidden(reason)
    _check_households_linked(group.kind, changes.get("households_linked"))
    covered: list[uuid.UUID] | None = None
    if "covered_residential_group_ids" in changes or "neighbourhood_id" in changes:
        wanted = changes.pop("covered_residential_group_ids", None)
        if wanted is None:
            wanted = await coverage.stored_coverage(session, group.id)
        covered = await coverage.check_covered(session, wanted, group.ward_code, neighbourhood_id)
    values = {k: v for k, v in changes.items() if k != "covered_residential_group_ids"}
    if "name" in values:
        values["search_key"] = fold(values["name"])
    if "status" in values:
        values["status"] = GroupStatus(values["status"]).value
    await compare_and_set(session, group, expected_version, values)
    if covered is not None:
        await coverage.replace_coverage(session, group.id, covered)
    audit_service.record(
        session,
        principal,
        "update",
        "group",
        group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
        changed_fields=data.model_fields_set,
    )
    return await _full(session, group.id)


async def delete_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, expected_version: int
) -> None:
    """Delete a group registered by mistake, and its members; a designated one is kept."""
    group = await _manageable_group(session, principal, group_id)
    designations = await fetch_row(
        session,
        select(func.count()).where(
            col(ExemplaryModel.group_id) == group.id, col(ExemplaryModel.deleted_at).is_(None)
        ),
    )
    if designations is not None and designations[0]:
        raise Conflict(
            f"The group was designated an exemplary model {designations[0]} time(s); "
            "set its status to dissolved instead of deleting it.",
            rule="exemplary_model_designated",
        )
    now = utcnow()
    await compare_and_set(session, group, expected_version, {"deleted_at": now})
    live_members = (col(GroupMember.group_id) == group.id) & col(GroupMember.deleted_at).is_(None)
    member_ids = (await session.exec(select_model(GroupMember.id).where(live_members))).all()
    await session.exec(
        update(GroupMember)
        .where(live_members)
        .values(deleted_at=now, updated_at=now, version=col(GroupMember.version) + 1)
    )
    for member_id in member_ids:
        audit_service.record(
            session,
            principal,
            "delete",
            "group_member",
            member_id,
            province_code=group.province_code,
            ward_code=group.ward_code,
        )
    audit_service.record(
        session,
        principal,
        "delete",
        "group",
        group.id,
        province_code=group.province_code,
        ward_code=group.ward_code,
    )
