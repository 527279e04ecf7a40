"""The groups domain's declarations: for each of its tables the columns read, who sees
them (``policies``), the filters and sort key of its lists, and how it is written
(each record with its audit event; a group's coverage links with the group's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, literal_column, select
from sqlmodel import col

from app.data.links import Links
from app.data.repository import Filter, Repository
from app.data.writes import UnitOfWrite
from app.db import columns
from app.models.exemplary_models import ExemplaryModel
from app.models.group_members import GroupMember
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from app.pagination import Keyset
from app.services.groups import coverage, policies
from app.text import fold

Group = SelfManagedGroup

# --- groups ----------------------------------------------------------------------

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

# A space before the folded name: every word of it, the first too, follows a space, so
# one LIKE (``% word%``) finds a word's start, as units' name search does.
_WORDS = literal_column("' '", String) + col(Group.search_key)

_FILTERS = {
    "kind": Group.kind,
    "ward_code": Group.ward_code,
    "neighbourhood_id": Group.neighbourhood_id,
    "status": Group.status,
    "q": Filter(_WORDS, "like"),
    "updated_since": Filter(Group.updated_at, ">="),
}


def search_key(group: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The derived column: ``search_key``, the folded name (the one written, or the
    group's own: a new group's, or one whose name stays)."""
    return {"search_key": fold(values.get("name", group.name))}


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
    writes=UnitOfWrite("group", derive=search_key),
)

# The residential groups a group covers: written with the group, named in its event.
COVERAGE = Links(
    GroupResidentialGroup,
    owner=GroupResidentialGroup.group_id,
    target=GroupResidentialGroup.residential_group_id,
)

# --- members -----------------------------------------------------------------------

# Also the unit that deletes a group's members with it (``registry.delete_group``).


MEMBERS = Repository(
    GroupMember,
    noun="group member",
    columns=(
        GroupMember.id,
        GroupMember.created_at,
        GroupMember.updated_at,
        GroupMember.version,
        GroupMember.province_code,
        GroupMember.ward_code,
        GroupMember.group_id,
        GroupMember.full_name,
        GroupMember.phone,
        GroupMember.birth_year,
        GroupMember.position,
        GroupMember.joined_on,
        GroupMember.resident_since,
        GroupMember.elected_on,
        GroupMember.exception_approved_by,
        GroupMember.left_on,
        GroupMember.user_id,
    ),
    visible=policies.visibility,
    keyset=Keyset("group-members", columns(GroupMember.created_at, GroupMember.id)),
    filters={
        "group_id": GroupMember.group_id,
        "position": GroupMember.position,
        # True: still a member (no left_on); False: left. Present's inverse, kept under
        # the query parameter's name and values so that cursors keep their scope.
        "active": Filter(col(GroupMember.left_on).is_(None)),
        # The member an account signs in as (the group's rules look it up; no list does).
        "user_id": GroupMember.user_id,
    },
    missing="The group has no member with the id {id}.",
    through=policies.MEMBER_THROUGH,
    writes=UnitOfWrite("group_member"),
)

# --- exemplary models ----------------------------------------------------------------


def _of_the_group(column: Any, label: str) -> Any:
    """A column of the designated group, read with the designation."""
    return (
        select(col(column))
        .where(col(Group.id) == col(ExemplaryModel.group_id))
        .correlate(ExemplaryModel)
        .scalar_subquery()
        .label(label)
    )


_GROUP_KIND = _of_the_group(Group.kind, "group_kind")

EXEMPLARY_MODELS = Repository(
    ExemplaryModel,
    noun="exemplary model",
    columns=(
        ExemplaryModel.id,
        ExemplaryModel.created_at,
        ExemplaryModel.updated_at,
        ExemplaryModel.version,
        ExemplaryModel.province_code,
        ExemplaryModel.ward_code,
        ExemplaryModel.group_id,
        ExemplaryModel.year,
        ExemplaryModel.decision_no,
        ExemplaryModel.citation,
        _of_the_group(Group.name, "group_name"),
        _GROUP_KIND,
    ),
    visible=policies.designation_visibility,
    keyset=Keyset("exemplary-models", columns(ExemplaryModel.created_at, ExemplaryModel.id)),
    filters={
        "group_id": ExemplaryModel.group_id,
        "year": ExemplaryModel.year,
        "ward_code": ExemplaryModel.ward_code,
        "kind": Filter(_GROUP_KIND),
    },
    through=policies.DESIGNATION_THROUGH,
    writes=UnitOfWrite("exemplary_model"),
)
