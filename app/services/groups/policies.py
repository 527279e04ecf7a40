"""Who sees and manages self-managed groups, and their members: the one place it is said.

A group is placed by ``province_code``, ``ward_code`` and ``neighbourhood_id``,
and a group leader also sees the group they lead (``leader``: through its
members, not a column). A member is seen as its group is, and so is an
exemplary-model designation while its group is live."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, select
from sqlmodel import col

from app.data.visibility import Through, Visible, inline_predicate
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import SelfManagedGroup
from app.security import Principal, Role

Group = SelfManagedGroup

# Residents and camera owners read names and kinds only (GroupSummaryRead).
SUMMARY_ROLES = frozenset({Role.RESIDENT, Role.CAMERA_OWNER})


class GroupRow(Protocol):
    """What a group's readers and checks use of it: a summary row or the record."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def province_code(self) -> str: ...
    @property
    def ward_code(self) -> str: ...
    @property
    def neighbourhood_id(self) -> uuid.UUID | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...


def led_by(user_id: Any) -> Select[Any]:
    """Ids of the groups whose active leader signs in with the account ``user_id``."""
    return select(col(GroupMember.group_id)).where(
        col(GroupMember.user_id) == user_id,
        col(GroupMember.position) == "leader",
        col(GroupMember.left_on).is_(None),
        col(GroupMember.deleted_at).is_(None),
    )


def visibility(principal: Principal) -> Visible:
    """The groups ``principal`` may see, by the columns that place a group and the
    group it leads (``leader``, see ``THROUGH``); default deny."""
    role = principal.role
    if role is Role.ADMIN:
        return Visible.all()
    if role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role in (Role.WARD_OFFICER, Role.WARD_SYSTEM, *SUMMARY_ROLES) and principal.ward_code:
        return Visible.where(ward_code=principal.ward_code)
    if role is Role.WARD_SYSTEM and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if role is Role.NEIGHBOURHOOD_HEAD and principal.neighbourhood_id:
        return Visible.where(neighbourhood_id=principal.neighbourhood_id)
    if role is Role.GROUP_LEADER and principal.kind == "user":
        # Their neighbourhood's groups, and whatever group they lead (a ward-wide team).
        if principal.neighbourhood_id:
            return Visible.where(neighbourhood_id=principal.neighbourhood_id).or_where(
                leader=principal.subject
            )
        return Visible.where(leader=principal.subject)
    return Visible.nothing()


# ``leader``: the groups whose active leader is this account (not a column of the table).
THROUGH: Through = {"leader": lambda user_id: col(Group.id).in_(led_by(user_id))}

# The same visibility on the members' table: their rows carry their group's province
# and ward, not its neighbourhood.
MEMBER_THROUGH: Through = {
    "neighbourhood_id": lambda neighbourhood_id: col(GroupMember.group_id).in_(
        select(col(Group.id)).where(col(Group.neighbourhood_id) == neighbourhood_id)
    ),
    # Not correlated: the leaders are read from a group_members of their own.
    "leader": lambda user_id: col(GroupMember.group_id).in_(led_by(user_id).correlate(None)),
}


def visible(principal: Principal) -> ColumnElement[bool]:
    """``visibility`` as a predicate on the groups table (deleted ones never), for joins."""
    place = {
        "province_code": col(Group.province_code),
        "ward_code": col(Group.ward_code),
        "neighbourhood_id": col(Group.neighbourhood_id),
    }
    return col(Group.deleted_at).is_(None) & inline_predicate(visibility(principal), place, THROUGH)


def designation_visibility(principal: Principal) -> Visible:
    """The exemplary-model designations ``principal`` may see: those of the live groups
    it sees (names and kinds suffice), see ``DESIGNATION_THROUGH``."""
    groups = visibility(principal)
    return Visible.where(group_live=True) if groups.everything else groups


def _of_live_groups(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The designations whose group is live and meets ``where``."""
    return col(ExemplaryModel.group_id).in_(
        select(col(Group.id)).where(where, col(Group.deleted_at).is_(None))
    )


# Each name of a group's visibility, said of the designation's group; ``group_live``
# (an admin's): every designation of a live group (its value: True).
DESIGNATION_THROUGH: Through = {
    "province_code": lambda code: _of_live_groups(col(Group.province_code) == code),
    "ward_code": lambda code: _of_live_groups(col(Group.ward_code) == code),
    "neighbourhood_id": lambda place: _of_live_groups(col(Group.neighbourhood_id) == place),
    "leader": lambda user_id: _of_live_groups(col(Group.id).in_(led_by(user_id))),
    "group_live": lambda live: col(ExemplaryModel.group_id).in_(
        select(col(Group.id)).where(col(Group.deleted_at).is_(None) == live)
    ),
}


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
