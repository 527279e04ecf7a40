"""Self-managed groups: the register (who sees and manages which: ``group_policies``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal_column, select, update
from sqlmodel import col
from sqlmodel import select as select_model
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Filter, Repository
from app.data.visibility import inline_predicate
from app.db import columns, compare_and_set, fetch_row, utcnow
from app.errors import Conflict, FieldErrorType, Forbidden, ValidationFailed
from app.models.groups import ExemplaryModel, GroupMember, GroupResidentialGroup, SelfManagedGroup
from app.models.units import Neighbourhood, Ward
from app.pagination import CursorCodec, Keyset, PageParams
from app.schemas.groups import GroupCreate, GroupKind, GroupStatus, GroupUpdate
from app.security import Principal
from app.services import audit as audit_service
from app.services import group_coverage as coverage
from app.services import group_policies as policies
from app.text import fold, word_prefix_patterns

Group = SelfManagedGroup

_SUMMARY_COLUMNS = (
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
    Group.households_covered,
    Group.founded_on,
    Group.founding_decision_no,
    Group.charter_notes,
    Group.households_linked,
    coverage.area_households(),
)


# --- the groups each principal sees, in the view it gets -----------------------


def visible(principal: Principal) -> ColumnElement[bool]:
    """``visibility`` as a predicate on the groups table (deleted ones never), for joins."""
    place = {
        "province_code": col(Group.province_code),
        "ward_code": col(Group.ward_code),
        "neighbourhood_id": col(Group.neighbourhood_id),
    }
    return col(Group.deleted_at).is_(None) & inline_predicate(
        policies.visibility(principal), place, policies.THROUGH
    )


# A space before the folded name: every word of it, the first too, follows a space, so
# one LIKE (``% word%``) finds a word's start, as units' name search does.
_WORDS = literal_column("' '", String) + col(Group.search_key)

_FILTERS = {
    "kind": Group.kind,
    "ward_code": Group.ward_code,
    "neighbourhood_id": Group.neighbourhood_id,
    "status": Group.status,
    "q": Filter(_WORDS, "like"),
}

# Two views, two lists: a cursor of one is refused by the other.
GROUP_SUMMARIES = Repository(
    Group,
    noun="group",
    columns=_SUMMARY_COLUMNS,
    visible=policies.visibility,
    keyset=Keyset("groups-summary", columns(Group.created_at, Group.id)),
    filters=_FILTERS,
    through=policies.THROUGH,
)
GROUPS = Repository(
    Group,
    noun="group",
    columns=_FULL_COLUMNS,
    visible=policies.visibility,
    keyset=Keyset("groups", columns(Group.created_at, Group.id)),
    filters=_FILTERS,
    through=policies.THROUGH,
)


async def visible_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> policies.GroupRow:
    """One group ``principal`` may see, as a row of its summary's columns (404 otherwise)."""
    row: policies.GroupRow = await GROUP_SUMMARIES.get(session, principal, group_id)
    return row


# --- reads ---------------------------------------------------------------------


async def _present(
    session: AsyncSession, rows: Sequence[Any], *, summary: bool
) -> list[dict[str, Any]]:
    items = [row._asdict() for row in rows]
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
    summary = policies.summary_only(principal)
    rows, next_cursor = await (GROUP_SUMMARIES if summary else GROUPS).page(
        session,
        principal,
        page,
        codec,
        kind=kind.value if kind else None,
        ward_code=ward_code or None,
        neighbourhood_id=neighbourhood_id,
        status=status.value if status else None,
        # A q that folds to nothing filters nothing (every name matched its patterns).
        q=word_prefix_patterns(q)[1] if q and fold(q) else None,
    )
    return await _present(session, rows, summary=summary), next_cursor


async def get_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> dict[str, Any]:
    """One group in the view ``principal`` gets (404 outside their units)."""
    summary = policies.summary_only(principal)
    row = await (GROUP_SUMMARIES if summary else GROUPS).get(session, principal, group_id)
    return (await _present(session, [row], summary=summary))[0]


async def _full(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> dict[str, Any]:
    # Whoever may manage a group may see it, in the full view.
    row = await GROUPS.get(session, principal, group_id)
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
    reason = policies.can_manage_group(principal, ward_code, data.neighbourhood_id)
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
    return await _full(session, principal, group.id)


async def _manageable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> SelfManagedGroup:
    group = await GROUPS.get_for_update(session, principal, group_id)
    reason = policies.can_manage_group(principal, group.ward_code, group.neighbourhood_id)
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
        reason = policies.can_manage_group(principal, group.ward_code, neighbourhood_id)
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
    return await _full(session, principal, group.id)


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
