"""Fire-safety records for tests: teams, equipment, drills, competitions, stored directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import HA_LONG
from app.models.competitions import Competition, CompetitionEntry
from app.models.drills import Drill
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.models.neighbourhoods import Neighbourhood
from app.models.users import User
from app.security import Role
from app.services.fire.derived import occurs_on, schedule
from tests.conftest import Cast
from tests.factories import make_neighbourhood, make_user, unique

LEADER_PHONE = "0912345678"


def houses(count: int, prefix: str = "Nhà số") -> list[str]:
    """``count`` distinct household labels."""
    return [f"{prefix} {number}" for number in range(1, count + 1)]


async def make_team(
    session: AsyncSession,
    neighbourhood: Neighbourhood,
    *,
    leader: User | None = None,
    households: int | list[str] = 6,
    public_points: tuple[str, ...] = (),
    **values: Any,
) -> FireTeam:
    """A fire team of ``neighbourhood``, led by ``leader`` (a group_leader) if given."""
    labels = houses(households) if isinstance(households, int) else households
    team = FireTeam(
        province_code=neighbourhood.province_code,
        ward_code=neighbourhood.ward_code,
        neighbourhood_id=neighbourhood.id,
        name=values.pop("name", unique("Tổ liên gia ")),
        leader_user_id=leader.id if leader else None,
        leader_name=values.pop("leader_name", "Vũ Thị Giang"),
        leader_phone=values.pop("leader_phone", LEADER_PHONE),
        households=labels,
        household_count=len(labels),
        public_fire_points=[
            {"label": label, "location": f"Đầu {label}", "lat": None, "lon": None, "equipment": []}
            for label in public_points
        ],
        **values,
    )
    session.add(team)
    await session.flush()
    return team


async def make_equipment(
    session: AsyncSession,
    team: FireTeam,
    kind: str = "extinguisher",
    household: str | None = None,
    *,
    public_point: str | None = None,
    quantity: int = 1,
    last_inspected_on: date | None = None,
    inspection_interval_months: int | None = None,
    expires_on: date | None = None,
) -> FireEquipment:
    """An item of ``team`` at ``household`` (the first house unless a public point is given)."""
    if household is None and public_point is None:
        household = team.households[0]
    next_inspection_on, due_on = schedule(last_inspected_on, inspection_interval_months, expires_on)
    item = FireEquipment(
        province_code=team.province_code,
        ward_code=team.ward_code,
        neighbourhood_id=team.neighbourhood_id,
        team_id=team.id,
        kind=kind,
        household=household,
        public_point=public_point,
        quantity=quantity,
        last_inspected_on=last_inspected_on,
        inspection_interval_months=inspection_interval_months,
        expires_on=expires_on,
        next_inspection_on=next_inspection_on,
        due_on=due_on,
    )
    session.add(item)
    await session.flush()
    return item


async def make_full_kit(
    session: AsyncSession, team: FireTeam, household: str, **dates: Any
) -> list[FireEquipment]:
    """The three required items at ``household``, with the same dates."""
    return [
        await make_equipment(session, team, kind, household, **dates)
        for kind in ("extinguisher", "forced_entry_tool", "alarm_bell")
    ]


async def make_drill(
    session: AsyncSession,
    team: FireTeam,
    planned_for: date,
    *,
    held_at: datetime | None = None,
    **values: Any,
) -> Drill:
    """A drill of ``team``, planned for a day and held if ``held_at`` is given."""
    drill = Drill(
        province_code=team.province_code,
        ward_code=team.ward_code,
        neighbourhood_id=team.neighbourhood_id,
        team_id=team.id,
        scenario=values.pop("scenario", "Cháy bếp gas tại nhà số 1"),
        planned_for=planned_for,
        held_at=held_at,
        occurs_on=occurs_on(planned_for, held_at),
        **values,
    )
    session.add(drill)
    await session.flush()
    return drill


async def make_competition(
    session: AsyncSession, level: str, unit_code: str, year: int = 2026, **values: Any
) -> Competition:
    """A competition round of a ward (5-digit unit) or a province (2-digit unit)."""
    ward = level == "ward"
    competition = Competition(
        province_code=values.pop("province_code", "22"),
        ward_code=unit_code if ward else None,
        year=year,
        level=level,
        unit_code=unit_code,
        name=values.pop("name", unique("Hội thi PCCC ")),
        **values,
    )
    session.add(competition)
    await session.flush()
    return competition


async def make_entry(
    session: AsyncSession,
    competition: Competition,
    team: FireTeam,
    theory: int | None = None,
    practical: int | None = None,
    seconds: float | None = None,
) -> CompetitionEntry:
    """``team``'s entry in ``competition`` with these scores."""
    entry = CompetitionEntry(
        competition_id=competition.id,
        team_id=team.id,
        province_code=team.province_code,
        ward_code=team.ward_code,
        theory_score=theory,
        practical_score=practical,
        practical_seconds=seconds,
        total_score=theory + practical if theory is not None and practical is not None else None,
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass
class FireCast:
    """The role matrix's cast plus fire teams and the group leaders who lead them."""

    cast: Cast
    leader: User  # group leader of ``team`` (Hạ Long, cast.ha_long_kp)
    team: FireTeam
    other_leader: User  # group leader of ``other_team``, same neighbourhood
    other_team: FireTeam
    other_kp: Neighbourhood  # another neighbourhood of Hạ Long
    other_kp_head: User
    bai_chay_team: FireTeam

    def headers(self, account: User, scopes: frozenset[str] | None = None) -> dict[str, str]:
        return self.cast.headers(account, scopes)


async def make_fire_cast(session: AsyncSession, cast: Cast) -> FireCast:
    """Two teams of the head's neighbourhood (one per leader) and one in Bãi Cháy."""
    leader = await make_user(session, Role.GROUP_LEADER, str(cast.ha_long_kp.id))
    other_leader = await make_user(session, Role.GROUP_LEADER, str(cast.ha_long_kp.id))
    other_kp = await make_neighbourhood(session, HA_LONG)
    built = FireCast(
        cast=cast,
        leader=leader,
        team=await make_team(session, cast.ha_long_kp, leader=leader, name="Tổ liên gia ngõ 45"),
        other_leader=other_leader,
        other_team=await make_team(
            session, cast.ha_long_kp, leader=other_leader, name="Tổ liên gia ngõ 47"
        ),
        other_kp=other_kp,
        other_kp_head=await make_user(session, Role.NEIGHBOURHOOD_HEAD, str(other_kp.id)),
        bai_chay_team=await make_team(session, cast.bai_chay_kp, name="Tổ liên gia Bãi Cháy"),
    )
    await session.commit()
    return built
