"""Fire safety's tables as the data layer reads and writes them: for each, the columns
read, who sees which rows, the filters and order of its lists, and its unit of write
(with the columns it derives).

Teams, equipment and drills are placed by ``province_code``, ``ward_code`` and
``neighbourhood_id`` (an item or a drill carries its team's place, copied when it is
recorded; a team never moves), so ``by_unit`` says who sees them. Competitions and
their entries have rules of their own, below."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from app.data.repository import Filter, Present, Repository
from app.data.visibility import Visible, by_unit
from app.data.writes import UnitOfWrite
from app.db import columns
from app.models.competitions import Competition, CompetitionEntry
from app.models.drills import Drill
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.pagination import Keyset
from app.schemas.competitions import CompetitionLevel
from app.security import Principal, Role
from app.services.fire import derived

_PROVINCE_LEVEL = CompetitionLevel.PROVINCE.value

FIRE_TEAMS = Repository(
    FireTeam,
    noun="fire team",
    columns=(
        FireTeam.id,
        FireTeam.province_code,
        FireTeam.ward_code,
        FireTeam.neighbourhood_id,
        FireTeam.name,
        FireTeam.leader_user_id,
        FireTeam.leader_name,
        FireTeam.leader_phone,
        FireTeam.households,
        FireTeam.household_count,
        FireTeam.public_fire_points,
        FireTeam.status,
        FireTeam.created_at,
        FireTeam.updated_at,
        FireTeam.version,
    ),
    visible=by_unit,
    keyset=Keyset("fire-teams", columns(FireTeam.name, FireTeam.id)),
    filters={
        "ward_code": FireTeam.ward_code,
        "neighbourhood_id": FireTeam.neighbourhood_id,
        "status": FireTeam.status,
        "leader_user_id": FireTeam.leader_user_id,
        # For the reads of a rule, not a list's query parameters: a competition's teams
        # (by its unit) and a team's name in its neighbourhood.
        "province_code": FireTeam.province_code,
        "name": FireTeam.name,
    },
    writes=UnitOfWrite("fire_team", derive=derived.team_household_count),
)

_EQUIPMENT_COLUMNS = columns(
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
# An item's reads go through its team: the team's own 404 first, then the item under
# the team's id.
EQUIPMENT = Repository(
    FireEquipment,
    noun="equipment item",
    columns=_EQUIPMENT_COLUMNS,
    visible=by_unit,
    keyset=Keyset("fire-equipment", columns(FireEquipment.created_at, FireEquipment.id)),
    filters={
        "team_id": FireEquipment.team_id,
        "kind": FireEquipment.kind,
        "household": FireEquipment.household,
    },
    missing="The team has no equipment item with the id {id}.",
    writes=UnitOfWrite("fire_equipment", derive=derived.equipment_schedule),
)
# The same items across teams, soonest due first, each with its team's name (the
# equipment-due list; its writes are EQUIPMENT's).
EQUIPMENT_DUE = Repository(
    FireEquipment,
    noun="equipment item",
    columns=(
        *_EQUIPMENT_COLUMNS,
        select(col(FireTeam.name))
        .where(col(FireTeam.id) == col(FireEquipment.team_id))
        .scalar_subquery()
        .label("team_name"),
    ),
    visible=by_unit,
    keyset=Keyset("equipment-due", columns(FireEquipment.due_on, FireEquipment.id)),
    # Named as the query parameters: a cursor's scope is made of these names.
    filters={
        # due_on is the earlier of the two dates: one indexed comparison.
        "before": Filter(FireEquipment.due_on, "<"),
        "ward_code": FireEquipment.ward_code,
        "team_id": FireEquipment.team_id,
        "kind": FireEquipment.kind,
    },
)

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
    writes=UnitOfWrite("drill", derive=derived.drill_day),
)


def competition_visibility(principal: Principal) -> Visible:
    """Admins all; province officers their province; everyone else with fire:read the rounds
    of their ward and those of their province (where their ward's best teams go)."""
    if principal.role is Role.ADMIN:
        return Visible.all()
    if principal.role is Role.PROVINCE_OFFICER and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.role is Role.WARD_SYSTEM and not principal.ward_code and principal.province_code:
        return Visible.where(province_code=principal.province_code)
    if principal.ward_code and principal.province_code:
        return Visible.where(ward_code=principal.ward_code).or_where(
            level=_PROVINCE_LEVEL, province_code=principal.province_code
        )
    return Visible.nothing()


COMPETITIONS = Repository(
    Competition,
    noun="competition",
    columns=(
        Competition.id,
        Competition.province_code,
        Competition.ward_code,
        Competition.year,
        Competition.level,
        Competition.unit_code,
        Competition.name,
        Competition.held_on,
        Competition.created_at,
        Competition.updated_at,
        Competition.version,
    ),
    visible=competition_visibility,
    # Newest year first; inside a year, the newest round first.
    keyset=Keyset(
        "competitions",
        columns(Competition.year, Competition.created_at, Competition.id),
        descending=True,
    ),
    filters={
        "year": Competition.year,
        "level": Competition.level,
        "unit_code": Competition.unit_code,
        # For the rule that a unit's rounds of a year have distinct names.
        "name": Competition.name,
    },
    writes=UnitOfWrite("competition"),
)


def entry_visibility(principal: Principal) -> Visible:
    """Every entry of a competition the principal sees: an entry is read only under the id
    of a competition found visible first (its own place is its team's, and a province
    round's entries come from many wards, so it cannot say who sees the entry)."""
    return Visible.all()


ENTRIES = Repository(
    CompetitionEntry,
    noun="competition entry",
    columns=(
        CompetitionEntry.id,
        CompetitionEntry.competition_id,
        CompetitionEntry.team_id,
        CompetitionEntry.province_code,
        CompetitionEntry.ward_code,
        CompetitionEntry.theory_score,
        CompetitionEntry.practical_score,
        CompetitionEntry.practical_seconds,
        CompetitionEntry.total_score,
        CompetitionEntry.created_at,
        CompetitionEntry.updated_at,
        CompetitionEntry.version,
    ),
    visible=entry_visibility,
    keyset=Keyset("competition-entries", columns(CompetitionEntry.created_at, CompetitionEntry.id)),
    filters={
        "competition_id": CompetitionEntry.competition_id,
        # For the rule that a team enters a round once.
        "team_id": CompetitionEntry.team_id,
    },
    missing="The competition has no entry with the id {id}.",
    writes=UnitOfWrite("competition_entry", derive=derived.entry_total),
)
