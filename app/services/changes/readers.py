"""How the change feed reads each record type (``sources.SOURCES`` names them): the records
of a page of changes by id, as the caller's own GET of each answers, in one statement a
type (and one more for a parent the GET reads the record under).

The scope each GET requires is its source's (``sources``: a caller without it gets no
change of the type). Each reader holds the caller to the rest of what its GET does: the
repository's visibility (``RowsOf``), the parent the
GET finds first (a member's group, an item's team, an entry's competition, an update's
report, an acknowledgement's broadcast), and the presenter the GET answers with (the
same masking for the same role). A record left out of the answer is a ``delete``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.related import RowsOf
from app.data.repository import Repository
from app.db import utcnow
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement
from app.models.cameras import Camera
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import Certification
from app.models.competitions import Competition, CompetitionEntry
from app.models.drills import Drill
from app.models.exemplary_models import ExemplaryModel
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.models.footage_requests import FootageRequest
from app.models.group_members import GroupMember
from app.models.groups import SelfManagedGroup
from app.models.neighbourhoods import Neighbourhood
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.models.residential_groups import ResidentialGroup
from app.models.users import User
from app.schemas.broadcasts import AcknowledgementRead, BroadcastRead
from app.schemas.certification_criteria import CriteriaSetRead
from app.schemas.certifications import CertificationRead
from app.schemas.competitions import CompetitionRead, EntryRead
from app.schemas.drills import DrillRead
from app.schemas.exemplary_models import ExemplaryModelRead
from app.schemas.fire_equipment import FireEquipmentRead
from app.schemas.fire_teams import FireTeamRead
from app.schemas.group_members import MemberRead
from app.schemas.groups import GroupView
from app.schemas.neighbourhoods import NeighbourhoodRead
from app.schemas.report_updates import ReportUpdateRead
from app.schemas.residential_groups import ResidentialGroupRead
from app.schemas.users import UserRead
from app.security import Principal
from app.services.broadcasts import records as broadcast_records
from app.services.broadcasts.acknowledgements import ACKNOWLEDGEMENTS
from app.services.cameras.access import CAMERAS
from app.services.cameras.access import present as present_camera
from app.services.cameras.footage import items_of as footage_items_of
from app.services.cameras.footage import present_request as present_footage_request
from app.services.cameras.footage_access import FOOTAGE_REQUESTS
from app.services.certifications.criteria import CRITERIA_SETS
from app.services.certifications.registry import CERTIFICATIONS
from app.services.fire import policies as fire_policies
from app.services.fire.records import COMPETITIONS, DRILLS, ENTRIES, EQUIPMENT, FIRE_TEAMS
from app.services.groups import policies as group_policies
from app.services.groups.members import present_member, sees_phones
from app.services.groups.records import EXEMPLARY_MODELS, GROUP_SUMMARIES, GROUPS, MEMBERS
from app.services.groups.registry import present_groups
from app.services.neighbourhoods import NEIGHBOURHOODS
from app.services.reports.history import UPDATES
from app.services.reports.records import REPORTS, can_read_reports, check_reader
from app.services.reports.records import present_rows as present_reports
from app.services.residential_groups import RESIDENTIAL_GROUPS
from app.services.users import USERS

Found = dict[uuid.UUID, Any]


async def _visible(
    repository: Repository[Any],
    column: Any,
    session: AsyncSession,
    principal: Principal | None,
    ids: Sequence[uuid.UUID],
    *,
    bound: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The rows of ``repository`` the principal sees whose ``column`` is one of ``ids``
    (``bound``: the values its SQL names besides, as ``get``'s)."""
    found = await RowsOf(repository, column).of(
        session, principal, list(dict.fromkeys(ids)), bound=bound
    )
    return [row for rows in found.values() for row in rows]


def _as_model(model: type[BaseModel], values: Any) -> Any:
    """``values`` as a route with ``response_model=model`` writes them."""
    return model.model_validate(values).model_dump(mode="json", by_alias=True)


def _dumped(model: BaseModel) -> Any:
    """A response model a route returns (``response_model`` its class), as it writes it."""
    return model.model_dump(mode="json", by_alias=True)


# --- units -------------------------------------------------------------------------


async def neighbourhoods(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Public reads: every caller's GET answers the same.
    rows = await _visible(NEIGHBOURHOODS, Neighbourhood.id, session, None, ids)
    return {row.id: _as_model(NeighbourhoodRead, row._asdict()) for row in rows}


async def residential_groups(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(RESIDENTIAL_GROUPS, ResidentialGroup.id, session, None, ids)
    return {row.id: _as_model(ResidentialGroupRead, row._asdict()) for row in rows}


async def users(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> Found:
    rows = await _visible(USERS, User.id, session, principal, ids)
    return {row.id: _as_model(UserRead, row._asdict()) for row in rows}


# --- self-managed groups ----------------------------------------------------------------


async def groups(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> Found:
    summary = group_policies.summary_only(principal)
    repository = GROUP_SUMMARIES if summary else GROUPS
    rows = await _visible(repository, SelfManagedGroup.id, session, principal, ids)
    items = await present_groups(session, rows, summary=summary)
    return {item["id"]: _as_model(GroupView, item) for item in items}


async def group_members(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Read under their group (GET /groups/{group_id}/members/{id}): the group must be one
    # the caller sees in full, and the phones are the caller's to see by that group.
    if group_policies.summary_only(principal):
        return {}
    rows = await _visible(MEMBERS, GroupMember.id, session, principal, ids)
    parents = await _visible(
        GROUP_SUMMARIES, SelfManagedGroup.id, session, principal, [row.group_id for row in rows]
    )
    reveal = {group.id: await sees_phones(session, principal, group) for group in parents}
    return {
        row.id: _as_model(MemberRead, present_member(row, reveal[row.group_id]))
        for row in rows
        if row.group_id in reveal
    }


async def exemplary_models(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(EXEMPLARY_MODELS, ExemplaryModel.id, session, principal, ids)
    return {row.id: _as_model(ExemplaryModelRead, row._asdict()) for row in rows}


# --- safe-zone certification ------------------------------------------------------------


async def criteria_sets(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # National reference data: every live set, to whoever may read certifications.
    rows = await _visible(CRITERIA_SETS, CriteriaSet.id, session, None, ids)
    return {row.id: _dumped(CriteriaSetRead.of(row)) for row in rows}


async def certifications(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(CERTIFICATIONS, Certification.id, session, principal, ids)
    return {row.id: _dumped(CertificationRead.of(row)) for row in rows}


# --- cameras ---------------------------------------------------------------------------


async def cameras(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> Found:
    rows = await _visible(CAMERAS, Camera.id, session, principal, ids)
    return {row.id: present_camera(principal, row) for row in rows}


async def footage_requests(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(FOOTAGE_REQUESTS, FootageRequest.id, session, principal, ids)
    items = await footage_items_of(session, principal, [row.id for row in rows])
    return {row.id: _dumped(present_footage_request(row, items[row.id])) for row in rows}


# --- fire safety -----------------------------------------------------------------------


async def fire_teams(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(FIRE_TEAMS, FireTeam.id, session, principal, ids)
    return {row.id: _as_model(FireTeamRead, fire_policies.present(principal, row)) for row in rows}


async def fire_equipment(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Read under its team (GET /fire-teams/{team_id}/equipment/{id}): a team the caller sees.
    rows = await _visible(EQUIPMENT, FireEquipment.id, session, principal, ids)
    teams = await _visible(
        FIRE_TEAMS, FireTeam.id, session, principal, [row.team_id for row in rows]
    )
    seen = {team.id for team in teams}
    return {
        row.id: _as_model(FireEquipmentRead, row._asdict()) for row in rows if row.team_id in seen
    }


async def drills(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> Found:
    rows = await _visible(DRILLS, Drill.id, session, principal, ids)
    return {row.id: _as_model(DrillRead, row._asdict()) for row in rows}


async def competitions(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    rows = await _visible(COMPETITIONS, Competition.id, session, principal, ids)
    return {row.id: _as_model(CompetitionRead, row._asdict()) for row in rows}


async def competition_entries(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Read under its competition (GET /competitions/{competition_id}/entries/{id}): the
    # entry is seen by whoever sees the competition.
    rows = await _visible(ENTRIES, CompetitionEntry.id, session, principal, ids)
    rounds = await _visible(
        COMPETITIONS, Competition.id, session, principal, [row.competition_id for row in rows]
    )
    seen = {competition.id for competition in rounds}
    return {
        row.id: _as_model(EntryRead, row._asdict()) for row in rows if row.competition_id in seen
    }


# --- community reports -----------------------------------------------------------------


async def reports(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> Found:
    check_reader(principal)
    rows = await _visible(REPORTS, Report.id, session, principal, ids)
    return {item["id"]: item for item in present_reports(principal, rows)}


async def report_updates(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Read under its report (GET /reports/{report_id}/updates/{id}): a report the caller
    # sees; officers read every entry, ward systems the public ones.
    if can_read_reports(principal):
        return {}
    rows = await _visible(UPDATES, ReportUpdate.id, session, principal, ids)
    parents = await _visible(
        REPORTS, Report.id, session, principal, [row.report_id for row in rows]
    )
    seen = {report.id for report in parents}
    return {
        row.id: _as_model(ReportUpdateRead, row._asdict()) for row in rows if row.report_id in seen
    }


# --- broadcasts --------------------------------------------------------------------------


async def broadcasts(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Its state (scheduled, live, expired) and whether the caller acknowledged it are as
    # of the reading, as its GET's are.
    now = utcnow()
    bound = broadcast_records.bound(principal, now)
    rows = await _visible(
        broadcast_records.BROADCASTS, Broadcast.id, session, principal, ids, bound=bound
    )
    return {row.id: _as_model(BroadcastRead, broadcast_records.present(row, now)) for row in rows}


async def broadcast_acknowledgements(
    session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> Found:
    # Read under its broadcast (GET /broadcasts/{broadcast_id}/acknowledgements/{id}): a
    # broadcast the caller sees now.
    rows = await _visible(ACKNOWLEDGEMENTS, BroadcastAcknowledgement.id, session, principal, ids)
    parents = await _visible(
        broadcast_records.BROADCASTS,
        Broadcast.id,
        session,
        principal,
        [row.broadcast_id for row in rows],
        bound=broadcast_records.bound(principal, utcnow()),
    )
    seen = {broadcast.id for broadcast in parents}
    return {
        row.id: _as_model(AcknowledgementRead, row._asdict())
        for row in rows
        if row.broadcast_id in seen
    }
