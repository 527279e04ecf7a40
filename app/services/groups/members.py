"""Members of self-managed groups: eligibility, one leader, and who sees phone numbers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Conflict, Forbidden, ValidationFailed
from app.models.group_members import GroupMember
from app.pagination import CursorCodec, PageParams
from app.schemas.group_members import MemberCreate, MemberPosition, MemberUpdate
from app.schemas.groups import GroupStatus
from app.security import Principal, Role
from app.services.groups import policies
from app.services.groups import registry as group_service
from app.services.groups.member_rules import check_member, mask_phone
from app.services.groups.records import MEMBERS
from app.services.users import holds_role

T = TypeVar("T")

# --- phone numbers ---------------------------------------------------------------


async def _leads(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> bool:
    """Whether ``principal`` signs in as the active leader of the group."""
    if principal.kind != "user":
        return False
    leader = await MEMBERS.first(
        session,
        principal,
        group_id=group_id,
        user_id=principal.subject,
        position=MemberPosition.LEADER.value,
        active=True,
    )
    return leader is not None


async def sees_phones(
    session: AsyncSession, principal: Principal, group: policies.GroupRow
) -> bool:
    """Officers of the group's ward, admins and the group's own leader see phone numbers."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.WARD_OFFICER:
        return principal.ward_code == group.ward_code
    if principal.role is Role.GROUP_LEADER:
        return await _leads(session, principal, group.id)
    return False


def present_member(row: Any, reveal: bool) -> dict[str, Any]:
    """A row of ``MEMBERS`` as its GET answers: the phone masked unless ``reveal``."""
    item: dict[str, Any] = row._asdict()
    item["phone_masked"] = not reveal and item["phone"] is not None
    if not reveal:
        item["phone"] = mask_phone(item["phone"])
    return item


# --- who manages members -----------------------------------------------------------


async def can_manage_members(
    session: AsyncSession, principal: Principal, group: policies.GroupRow
) -> str | None:
    """Why ``principal`` may not manage this group's members (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == group.ward_code:
        return None
    if (
        principal.role is Role.NEIGHBOURHOOD_HEAD
        and group.neighbourhood_id is not None
        and group.neighbourhood_id == principal.neighbourhood_id
    ):
        return None
    if principal.role is Role.GROUP_LEADER and await _leads(session, principal, group.id):
        return None
    if principal.role is Role.GROUP_LEADER:
        return "A group leader manages only the members of the group they lead."
    return "Only ward officers, neighbourhood heads, the group's leader and admins manage members."


async def _readable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> policies.GroupRow:
    group = await group_service.visible_group(session, principal, group_id)
    if policies.summary_only(principal):
        raise Forbidden("Residents and camera owners see group names and kinds only, not members.")
    return group


async def _manageable_group(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID
) -> policies.GroupRow:
    group = await _readable_group(session, principal, group_id)
    reason = await can_manage_members(session, principal, group)
    if reason:
        raise Forbidden(reason)
    return group


# --- reads ---------------------------------------------------------------------------


async def list_members(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    page: PageParams,
    codec: CursorCodec,
    *,
    position: MemberPosition | None = None,
    active: bool | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A group's members, oldest first; phones masked unless the principal may see them."""
    group = await _readable_group(session, principal, group_id)
    rows, next_cursor = await MEMBERS.page(
        session,
        principal,
        page,
        codec,
        group_id=group.id,
        position=position.value if position else None,
        active=active,
    )
    reveal = await sees_phones(session, principal, group)
    return [present_member(row, reveal) for row in rows], next_cursor


async def _read(
    session: AsyncSession, principal: Principal, group: policies.GroupRow, member_id: uuid.UUID
) -> dict[str, Any]:
    row = await MEMBERS.get(session, principal, member_id, group_id=group.id)
    return present_member(row, await sees_phones(session, principal, group))


async def get_member(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, member_id: uuid.UUID
) -> dict[str, Any]:
    """One member of a group the principal may see."""
    group = await _readable_group(session, principal, group_id)
    return await _read(session, principal, group, member_id)


# --- rules ---------------------------------------------------------------------------


async def _other_leader(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, member_id: uuid.UUID | None
) -> bool:
    """Whether the group has an active leader other than ``member_id``. One at most (the
    partial unique index), and whoever manages the group's members sees them all."""
    leader = await MEMBERS.first(
        session,
        principal,
        group_id=group_id,
        position=MemberPosition.LEADER.value,
        active=True,
    )
    return leader is not None and leader.id != member_id


def _leader_conflict() -> Conflict:
    return Conflict(
        "The group already has an active leader; set the current leader's left_on "
        "or position first.",
        rule="one_active_leader",
    )


async def _one_leader(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    member_id: uuid.UUID | None,
    values: dict[str, Any],
    write: Callable[[], Awaitable[T]],
) -> T:
    """Run ``write`` unless it would give the group a second active leader (409).

    The partial unique index catches what the check cannot see (a concurrent
    request's leader, committed meanwhile): the savepoint keeps the
    transaction usable to tell the client which rule it broke."""
    leads = values["position"] == MemberPosition.LEADER.value and values.get("left_on") is None
    if leads and await _other_leader(session, principal, group_id, member_id):
        raise _leader_conflict()
    try:
        async with session.begin_nested():
            return await write()
    except IntegrityError:
        if leads and await _other_leader(session, principal, group_id, member_id):
            raise _leader_conflict() from None
        raise


async def _check_account(
    session: AsyncSession,
    principal: Principal,
    group: policies.GroupRow,
    user_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
) -> None:
    if principal.role not in (Role.ADMIN, Role.WARD_OFFICER, Role.NEIGHBOURHOOD_HEAD):
        raise Forbidden("Only officers and neighbourhood heads link a member to an account.")
    if user_id is None:
        return
    if not await holds_role(session, user_id, Role.GROUP_LEADER, ward_code=group.ward_code):
        raise ValidationFailed.field(
            ("body", "user_id"),
            f"user_id must name an active group_leader account of ward {group.ward_code}.",
        )
    # One live member per account and group (a partial unique index).
    linked = await MEMBERS.first(session, principal, group_id=group.id, user_id=user_id)
    if linked is not None and linked.id != member_id:
        raise Conflict("That account is already linked to another member of the group.")


def _not_dissolved(group: policies.GroupRow) -> None:
    if group.status == GroupStatus.DISSOLVED.value:
        raise Conflict("The group is dissolved; it takes no new members.", rule="group_dissolved")


# --- writes --------------------------------------------------------------------------


async def create_member(
    session: AsyncSession, principal: Principal, group_id: uuid.UUID, data: MemberCreate
) -> dict[str, Any]:
    """Add a member to a group the principal manages, if the group's rules allow."""
    group = await _manageable_group(session, principal, group_id)
    if "user_id" in data.model_fields_set:
        await _check_account(session, principal, group, data.user_id, None)
    values = data.model_dump()
    values["position"] = data.position.value
    check_member(group.kind, values)
    _not_dissolved(group)
    member = GroupMember(
        **values, group_id=group.id, province_code=group.province_code, ward_code=group.ward_code
    )

    fields = data.model_fields_set | {"full_name", "birth_year", "position", "joined_on"}

    async def insert() -> None:
        await MEMBERS.insert(session, principal, member, fields=fields)

    await _one_leader(session, principal, group.id, None, values, insert)
    return await _read(session, principal, group, member.id)


_REQUIRED = ("full_name", "birth_year", "position", "joined_on")


async def update_member(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: int,
    data: MemberUpdate,
) -> dict[str, Any]:
    """Change a member, if still at ``expected_version``; the group's rules are checked again."""
    group = await _manageable_group(session, principal, group_id)
    member = await MEMBERS.get_for_update(session, principal, member_id, group_id=group.id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(name for name in _REQUIRED if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed.not_null(nulls)
    if "user_id" in changes:
        await _check_account(session, principal, group, changes["user_id"], member.id)
    if "position" in changes:
        changes["position"] = MemberPosition(changes["position"]).value
    merged = {**member.model_dump(), **changes}
    check_member(group.kind, merged)

    async def write() -> None:
        await MEMBERS.update(session, principal, member, expected_version, changes, fields=changes)

    await _one_leader(session, principal, group.id, member.id, merged, write)
    return await _read(session, principal, group, member.id)


async def delete_member(
    session: AsyncSession,
    principal: Principal,
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    expected_version: int,
) -> None:
    """Delete a member entered by mistake (one who left gets ``left_on`` instead)."""
    group = await _manageable_group(session, principal, group_id)
    member = await MEMBERS.get_for_update(session, principal, member_id, group_id=group.id)
    await MEMBERS.delete(session, principal, member, expected_version)
