"""Demo fire-safety data: teams in Hạ Long and Bãi Cháy, their kit, drills in 2025, competitions.

Deterministic (``random.Random`` with a fixed seed, ids from ``demo_id``) and
additive: a rerun adds only records that are missing, and never overwrites
what someone changed meanwhile."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.demo.places import BAI_CHAY, HA_LONG, PROVINCE_CODE, SeedSummary, demo_id
from app.models.competitions import Competition, CompetitionEntry
from app.models.drills import Drill
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.models.users import User
from app.security import Role
from app.services.fire.derived import occurs_on, schedule


@dataclass(frozen=True)
class TeamPlan:
    """One demo team: where, how many houses, and which demo login leads it."""

    key: str
    ward_code: str
    neighbourhood_code: str
    name: str
    street: str
    households: int
    leader_login: str | None = None


TEAMS = (
    TeamPlan(
        "hl-kp01-a", HA_LONG, "KP01", "Tổ liên gia ngõ 12 Cao Xanh", "Cao Xanh", 8, "leader.halong"
    ),
    TeamPlan("hl-kp01-b", HA_LONG, "KP01", "Tổ liên gia ngõ 25 Cao Xanh", "Cao Xanh", 6),
    TeamPlan("hl-kp02", HA_LONG, "KP02", "Tổ liên gia ngõ 7 Lê Thánh Tông", "Lê Thánh Tông", 10),
    TeamPlan("hl-kp03", HA_LONG, "KP03", "Tổ liên gia ngõ 41 Nguyễn Văn Cừ", "Nguyễn Văn Cừ", 12),
    TeamPlan("hl-kp05", HA_LONG, "KP05", "Tổ liên gia ngõ 3 Bến Đoan", "Bến Đoan", 7),
    TeamPlan("hl-kp07", HA_LONG, "KP07", "Tổ liên gia ngõ 18 Hà Lầm", "Hà Lầm", 15),
    TeamPlan(
        "bc-kp01", BAI_CHAY, "KP01", "Tổ liên gia ngõ 9 Hạ Long", "Hạ Long", 9, "leader.baichay"
    ),
)

LEADER_NAMES = ("Vũ Thị Giang", "Phạm Văn Khải", "Đỗ Thị Liên", "Ngô Văn Mạnh", "Lý Thị Oanh")
SCENARIOS = (
    "Cháy bếp gas tại nhà số {n}; cắt điện, dập lửa bằng bình bột",
    "Cháy chập điện tầng 2 nhà số {n}; phá cửa cuốn, cứu người kẹt",
    "Cháy xe máy trong ngõ trước nhà số {n}; báo động kẻng, sơ tán",
)
OUTCOMES = ("passed", "passed", "needs_improvement", "passed", "failed")

# Hội thi 2025: (team key, theory, practical, practical seconds). Two teams tie
# on all three keys for second place, so the ranking reads 1, 2, 2, 4, 5, 6
# and three teams qualify for the province round.
WARD_ROUND = (
    ("hl-kp03", 92, 95, 118.0),
    ("hl-kp01-a", 88, 90, 124.5),
    ("hl-kp07", 88, 90, 124.5),
    ("hl-kp02", 90, 88, 131.0),
    ("hl-kp05", 80, 85, 140.2),
    ("hl-kp01-b", 75, 70, 152.8),
)
PROVINCE_ROUND = (
    ("hl-kp03", 90, 92, 121.3),
    ("hl-kp07", 91, 93, 119.0),
    ("hl-kp01-a", 85, 88, 130.4),
)


def _alley(plan: TeamPlan) -> str:
    return plan.name.split(" ngõ ", 1)[1]


def _households(plan: TeamPlan, rng: random.Random) -> list[str]:
    numbers = sorted(rng.sample(range(1, 80), plan.households))
    return [f"Nhà số {n}, ngõ {_alley(plan)}" for n in numbers]


def _public_point(plan: TeamPlan) -> str:
    return f"Điểm chữa cháy ngõ {_alley(plan)}"


async def _existing(session: AsyncSession, model: Any, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await session.exec(select(model.id).where(col(model.id).in_(ids)))
    return set(rows.all())


async def seed_demo(session: AsyncSession, summary: SeedSummary) -> None:
    """Add the demo teams, equipment, drills and competitions that are missing."""
    team_ids = {plan.key: demo_id("fire-team", plan.key) for plan in TEAMS}
    present = await _existing(session, FireTeam, list(team_ids.values()))
    teams: dict[str, FireTeam] = {}
    for index, plan in enumerate(TEAMS):
        # The plan, drawn in the same order every run, decides every record;
        # the stored team only says which of them may still be added.
        rng = random.Random(f"wardsafe-fire-{plan.key}")  # noqa: S311 (demo data)
        households = _households(plan, rng)
        phone = "09" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        exists = team_ids[plan.key] in present
        team = await _seed_team(session, plan, index, households, phone, exists, summary)
        if team is not None:
            teams[plan.key] = team
            await _seed_equipment(session, plan, team, households, rng, summary)
            await _seed_drills(session, plan, team, rng, summary)
    await session.flush()
    await _seed_competitions(session, teams, summary)


async def _seed_team(
    session: AsyncSession,
    plan: TeamPlan,
    index: int,
    households: list[str],
    phone: str,
    exists: bool,
    summary: SeedSummary,
) -> FireTeam | None:
    team_id = demo_id("fire-team", plan.key)
    if exists:
        return await session.get(FireTeam, team_id)
    neighbourhood_id = demo_id("neighbourhood", plan.ward_code, plan.neighbourhood_code)
    taken = await session.exec(
        select(FireTeam.id).where(
            col(FireTeam.neighbourhood_id) == neighbourhood_id,
            col(FireTeam.name) == plan.name,
            col(FireTeam.deleted_at).is_(None),
        )
    )
    if taken.first() is not None:
        summary.notes.append(f"fire team {plan.name!r} exists already; demo team not added")
        return None
    leader_user_id = None
    if plan.leader_login:
        leader = await session.get(User, demo_id("user", plan.leader_login))
        if leader is not None and leader.role == Role.GROUP_LEADER.value:
            leader_user_id = leader.id
    team = FireTeam(
        id=team_id,
        province_code=PROVINCE_CODE,
        ward_code=plan.ward_code,
        neighbourhood_id=neighbourhood_id,
        name=plan.name,
        leader_user_id=leader_user_id,
        leader_name=LEADER_NAMES[index % len(LEADER_NAMES)],
        leader_phone=phone,
        households=households,
        household_count=len(households),
        public_fire_points=[
            {
                "label": _public_point(plan),
                "location": f"Đầu ngõ {_alley(plan)}, cạnh cột điện",
                "lat": None,
                "lon": None,
                "equipment": ["2 bình bột 8 kg", "1 xà beng", "1 kẻng báo động"],
            }
        ],
        status="active",
    )
    session.add(team)
    summary.count("fire_teams")
    await session.flush()
    return team


def _equipment_rows(
    plan: TeamPlan, households: list[str], rng: random.Random
) -> list[dict[str, Any]]:
    """Each house's kit; some extinguishers overdue or expired, some bells missing."""
    rows: list[dict[str, Any]] = []
    for number, household in enumerate(households):
        overdue = number % 4 == 3  # inspected in spring 2025 every 6 months: long overdue
        expired = number % 9 == 5
        inspected = (
            date(2025, rng.randint(3, 5), rng.randint(1, 28))
            if overdue
            else date(2026, rng.randint(5, 10), rng.randint(1, 28))
        )
        rows.append(
            {
                "kind": "extinguisher",
                "household": household,
                "description": "Bình bột ABC 4 kg",
                "quantity": 1 + rng.randint(0, 1),
                "last_inspected_on": inspected,
                "inspection_interval_months": 6 if overdue else 12,
                "expires_on": date(2026, 6, 30)
                if expired
                else date(rng.randint(2027, 2030), 12, 31),
            }
        )
        rows.append({"kind": "forced_entry_tool", "household": household, "description": "Xà beng"})
        if number % 7 != 6:
            rows.append({"kind": "alarm_bell", "household": household, "description": "Kẻng"})
    rows.append(
        {
            "kind": "hose",
            "public_point": _public_point(plan),
            "description": "Cuộn vòi D50, 20 m",
            "last_inspected_on": date(2025, 11, 15),
            "inspection_interval_months": 12,
        }
    )
    return rows


async def _seed_equipment(
    session: AsyncSession,
    plan: TeamPlan,
    team: FireTeam,
    households: list[str],
    rng: random.Random,
    summary: SeedSummary,
) -> None:
    rows = _equipment_rows(plan, households, rng)
    ids = [demo_id("fire-equipment", plan.key, str(i), row["kind"]) for i, row in enumerate(rows)]
    present = await _existing(session, FireEquipment, ids)
    points = {point["label"] for point in team.public_fire_points}
    for equipment_id, row in zip(ids, rows, strict=True):
        place_gone = (
            row["household"] not in team.households
            if "household" in row
            else row["public_point"] not in points
        )
        if equipment_id in present or place_gone:
            continue
        next_inspection_on, due_on = schedule(
            row.get("last_inspected_on"),
            row.get("inspection_interval_months"),
            row.get("expires_on"),
        )
        session.add(
            FireEquipment(
                id=equipment_id,
                province_code=team.province_code,
                ward_code=team.ward_code,
                neighbourhood_id=team.neighbourhood_id,
                team_id=team.id,
                quantity=row.pop("quantity", 1),
                next_inspection_on=next_inspection_on,
                due_on=due_on,
                **row,
            )
        )
        summary.count("fire_equipment")


async def _seed_drills(
    session: AsyncSession,
    plan: TeamPlan,
    team: FireTeam,
    rng: random.Random,
    summary: SeedSummary,
) -> None:
    """Drills held through 2025 (March, July, November) and one planned for December 2026."""
    drills: list[dict[str, Any]] = []
    for month in (3, 7, 11):
        day = rng.randint(5, 25)
        present = rng.randint(plan.households - 3, plan.households)
        drills.append(
            {
                "planned_for": date(2025, month, day),
                # 08:00 in Vietnam.
                "held_at": datetime(2025, month, day, 1, 0, tzinfo=UTC),
                "participants": present * 2 + rng.randint(0, 4),
                "households_present": present,
                "response_seconds": rng.randint(70, 190),
                "outcome": OUTCOMES[(month + len(plan.key)) % len(OUTCOMES)],
            }
        )
    drills.append({"planned_for": date(2026, 12, rng.randint(6, 20))})
    ids = [demo_id("drill", plan.key, str(i)) for i in range(len(drills))]
    present_ids = await _existing(session, Drill, ids)
    for number, (drill_id, drill) in enumerate(zip(ids, drills, strict=True)):
        if drill_id in present_ids:
            continue
        house_number = 1 + (number * 3) % plan.households
        session.add(
            Drill(
                id=drill_id,
                province_code=team.province_code,
                ward_code=team.ward_code,
                neighbourhood_id=team.neighbourhood_id,
                team_id=team.id,
                scenario=SCENARIOS[number % len(SCENARIOS)].format(n=house_number),
                occurs_on=occurs_on(drill["planned_for"], drill.get("held_at")),
                **drill,
            )
        )
        summary.count("drills")


async def _seed_competitions(
    session: AsyncSession, teams: dict[str, FireTeam], summary: SeedSummary
) -> None:
    rounds = (
        (
            "ward-2025",
            Competition(
                id=demo_id("competition", "ward-2025", HA_LONG),
                province_code=PROVINCE_CODE,
                ward_code=HA_LONG,
                year=2025,
                level="ward",
                unit_code=HA_LONG,
                name="Hội thi tổ liên gia an toàn PCCC phường Hạ Long năm 2025",
                held_on=date(2025, 9, 20),
            ),
            WARD_ROUND,
        ),
        (
            "province-2025",
            Competition(
                id=demo_id("competition", "province-2025", PROVINCE_CODE),
                province_code=PROVINCE_CODE,
                ward_code=None,
                year=2025,
                level="province",
                unit_code=PROVINCE_CODE,
                name="Hội thi tổ liên gia an toàn PCCC tỉnh Quảng Ninh năm 2025",
                held_on=date(2025, 11, 8),
            ),
            PROVINCE_ROUND,
        ),
    )
    for key, competition, results in rounds:
        stored = await session.get(Competition, competition.id)
        if stored is None:
            taken = await session.exec(
                select(Competition.id).where(
                    col(Competition.unit_code) == competition.unit_code,
                    col(Competition.year) == competition.year,
                    col(Competition.name) == competition.name,
                    col(Competition.deleted_at).is_(None),
                )
            )
            if taken.first() is not None:
                summary.notes.append(f"competition {competition.name!r} exists already")
                continue
            session.add(competition)
            summary.count("competitions")
            await session.flush()
        entry_ids = [demo_id("competition-entry", key, team_key) for team_key, *_ in results]
        present = await _existing(session, CompetitionEntry, entry_ids)
        for entry_id, (team_key, theory, practical, seconds) in zip(
            entry_ids, results, strict=True
        ):
            team = teams.get(team_key)
            if entry_id in present or team is None:
                continue
            session.add(
                CompetitionEntry(
                    id=entry_id,
                    competition_id=competition.id,
                    team_id=team.id,
                    province_code=team.province_code,
                    ward_code=team.ward_code,
                    theory_score=theory,
                    practical_score=practical,
                    practical_seconds=seconds,
                    total_score=theory + practical,
                )
            )
            summary.count("competition_entries")
        await session.flush()
